import { readFile } from 'node:fs/promises';
import { Inject, Injectable } from '@nestjs/common';
import {
  evaluationSetStream,
  newId,
  SCHEMA_VERSION,
  type Actor,
  type EvaluationSetManifestData,
  type EvaluationSetVersionAdded,
} from '@mrw/contracts';
import type { ContentAddressedStore } from '@mrw/artifacts';
import { canonicalJson, EVENT_STORE, WrongExpectedRevisionError, type EventStore } from '@mrw/event-store';
import { ProblemException } from '@mrw/platform';
import { EvaluationSetError, type EvaluationSetManifest, type LoadedEvaluationSet } from './evaluation-set';
import { loadSetInWorker } from '../run-evaluation/evaluation-worker';
import { TableFormatError } from './read-table';

export const EVALUATION_SET_FILES = Symbol('EVALUATION_SET_FILES');

export type EvaluationSetVersion = EvaluationSetVersionAdded['data'] & { readonly addedAt: string; readonly addedBy: Actor };

/** Stored events come back with their keys sorted, so compare canonical forms. */
const sameManifest = (a: EvaluationSetManifestData, b: EvaluationSetManifestData): boolean =>
  canonicalJson(a) === canonicalJson(b);

/**
 * Standard evaluation sets: bytes in a content-addressed store, versions as events in the
 * evaluator's `evaluationSet-<name>` stream. A version never changes; the same bytes with
 * the same manifest are the same version, uploaded again or not.
 */
@Injectable()
export class EvaluationSetCatalog {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(EVALUATION_SET_FILES) private readonly files: ContentAddressedStore,
  ) {}

  async versions(name: string): Promise<EvaluationSetVersion[]> {
    const events = await this.store.readStream(evaluationSetStream(name));
    return events.map((e) => ({
      ...(e.data as EvaluationSetVersionAdded['data']),
      addedAt: e.metadata.occurredAt,
      addedBy: e.metadata.actor,
    }));
  }

  /** Checks the file against its manifest, stores it, and records a version unless it exists. */
  async add(name: string, uploadedFile: string, manifest: EvaluationSetManifest, actor: Actor): Promise<EvaluationSetVersion> {
    const bytes = new Uint8Array(await readFile(uploadedFile));
    const format = bytes[0] === 0x50 && bytes[1] === 0x41 && bytes[2] === 0x52 && bytes[3] === 0x31 ? 'parquet' : 'csv';
    const loaded = await this.parse(bytes, manifest);
    const stored = await this.files.importFile(uploadedFile);
    const data: EvaluationSetManifestData = {
      task: manifest.task,
      label: manifest.label,
      features: [...loaded.featureNames],
      slices: [...(manifest.slices ?? [])],
      costMatrix: manifest.costMatrix ? manifest.costMatrix.map((row) => [...row]) : null,
    };
    for (let attempt = 0; ; attempt += 1) {
      const existing = await this.versions(name);
      const same = existing.find((v) => v.digest === stored.digest && sameManifest(v.manifest, data));
      if (same) return same;
      const event: EvaluationSetVersionAdded = {
        type: 'EvaluationSetVersionAdded',
        data: {
          name,
          version: existing.length + 1,
          digest: stored.digest,
          format,
          rows: loaded.rows,
          size: stored.size,
          manifest: data,
        },
      };
      const commandId = newId();
      try {
        await this.store.appendToStream(
          evaluationSetStream(name),
          [
            {
              ...event,
              metadata: {
                eventId: commandId,
                occurredAt: new Date().toISOString(),
                actor,
                correlationId: commandId,
                causationId: null,
                schemaVersion: SCHEMA_VERSION,
              },
            },
          ],
          { expectedRevision: existing.length === 0 ? 'no_stream' : existing.length - 1 },
        );
      } catch (error) {
        if (error instanceof WrongExpectedRevisionError && attempt < 5) continue;
        throw error;
      }
      const [added] = (await this.versions(name)).slice(-1);
      return added as EvaluationSetVersion;
    }
  }

  /** The set a requested evaluation names: the pinned digest, or the newest version. */
  async resolve(name: string, digest: string | null): Promise<{ version: EvaluationSetVersion; set: LoadedEvaluationSet }> {
    const versions = await this.versions(name);
    const version = digest ? versions.find((v) => v.digest === digest) : versions[versions.length - 1];
    if (!version) {
      throw new EvaluationSetError(
        'UNKNOWN_SET',
        digest ? `evaluation set ${name} has no version ${digest}` : `no evaluation set named ${name} has been uploaded`,
      );
    }
    const bytes = new Uint8Array(await readFile(this.files.pathOf(version.digest)));
    const m = version.manifest;
    const manifest: EvaluationSetManifest = {
      task: m.task,
      label: m.label,
      features: m.features,
      slices: m.slices,
      ...(m.costMatrix ? { costMatrix: m.costMatrix } : {}),
    };
    return { version, set: await loadSetInWorker(bytes, manifest) };
  }

  private async parse(bytes: Uint8Array, manifest: EvaluationSetManifest): Promise<LoadedEvaluationSet> {
    try {
      return await loadSetInWorker(bytes, manifest);
    } catch (error) {
      if (error instanceof EvaluationSetError) throw new ProblemException(`SET_${error.code}`, error.message, {}, 422);
      if (error instanceof TableFormatError) throw new ProblemException('SET_MALFORMED', error.message, {}, 422);
      throw error;
    }
  }
}
