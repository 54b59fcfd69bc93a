/**
 * Which version (digest) of a standard evaluation set is current. The evaluator owns the
 * sets; until it is plugged in, only a policy's pinned `setVersion` is known, and the gate
 * accepts the digest the evaluation recorded.
 */
export interface EvaluationSetDirectory {
  currentDigest(setName: string): Promise<string | null>;
}

export const EVALUATION_SETS = Symbol('EVALUATION_SETS');

/** The directory used while no evaluator publishes set versions. */
export const pinnedOnlyEvaluationSets: EvaluationSetDirectory = {
  currentDigest: async () => null,
};
