import { evaluationSetStream, type EvaluationSetVersionAdded } from '@mrw/contracts';
import type { EventStore } from '@mrw/event-store';

/** Which version (digest) of a standard evaluation set is current. */
export interface EvaluationSetDirectory {
  currentDigest(setName: string): Promise<string | null>;
}

export const EVALUATION_SETS = Symbol('EVALUATION_SETS');

/**
 * The newest version of a set, read from the evaluator's `evaluationSet-<name>` stream in the
 * shared log (a policy may pin an older one with `setVersion`). Null for a set nobody uploaded.
 */
export const evaluationSetsFromLog = (store: EventStore): EvaluationSetDirectory => ({
  currentDigest: async (setName) => {
    const [newest] = await store.readStream(evaluationSetStream(setName), { direction: 'backwards', maxCount: 1 });
    return newest ? (newest.data as EvaluationSetVersionAdded['data']).digest : null;
  },
});
