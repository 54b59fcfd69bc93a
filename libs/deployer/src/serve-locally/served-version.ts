import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import type { InferFeed, OnnxValueInfo } from './oip-protocol';
import { ONNX_SESSION_WORKER_SOURCE } from './onnx-session.worker-source';

/** An output tensor as the worker returns it. */
export interface OutputTensor {
  readonly type: string;
  readonly dims: number[];
  readonly data: ArrayLike<number> | unknown[];
}

/** What a served version is: the model, its version, and where its bytes came from. */
export interface VersionSpec {
  readonly model: string;
  readonly version: string;
  readonly artifactPath: string;
  /** `sha256:<hex>`; null when the registrant recorded none. */
  readonly digest: string | null;
}

/** Why a version could not be loaded. */
export class VersionLoadError extends Error {
  override readonly name = 'VersionLoadError';
  constructor(
    readonly code: 'ARTIFACT_UNREADABLE' | 'DIGEST_MISMATCH' | 'MODEL_UNREADABLE',
    message: string,
  ) {
    super(message);
  }
}

type Pending = { resolve: (value: Record<string, OutputTensor>) => void; reject: (error: Error) => void };

/**
 * One version of a model, loaded in its own worker thread, counting the requests it is
 * answering so that a switch can wait for them (drain) before it is unloaded.
 */
export class ServedVersion {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private inflight = 0;
  private idle: Array<() => void> = [];

  private constructor(
    readonly spec: VersionSpec,
    private readonly worker: Worker,
    readonly inputs: readonly OnnxValueInfo[],
    readonly outputs: readonly OnnxValueInfo[],
  ) {
    worker.on('message', (message: { type: string; id?: number; message?: string; result?: Record<string, OutputTensor> }) => {
      const waiting = message.id === undefined ? undefined : this.pending.get(message.id);
      if (!waiting || message.id === undefined) return;
      this.pending.delete(message.id);
      if (message.type === 'ran') waiting.resolve(message.result ?? {});
      else waiting.reject(new Error(message.message ?? 'inference failed'));
    });
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', () => this.failAll(new Error(`the worker of ${spec.model} version ${spec.version} exited`)));
  }

  /** Reads the artifact, checks its digest and opens an onnxruntime session in a new worker thread. */
  static async load(spec: VersionSpec, threads = 1): Promise<ServedVersion> {
    let bytes: Buffer;
    try {
      bytes = await readFile(spec.artifactPath);
    } catch (error) {
      throw new VersionLoadError('ARTIFACT_UNREADABLE', `cannot read ${spec.artifactPath}: ${(error as Error).message}`);
    }
    if (spec.digest !== null) {
      const actual = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      if (actual !== spec.digest) {
        throw new VersionLoadError('DIGEST_MISMATCH', `${spec.artifactPath} has digest ${actual}, the version records ${spec.digest}`);
      }
    }
    const worker = new Worker(ONNX_SESSION_WORKER_SOURCE, { eval: true, workerData: { onnxruntimePath: require.resolve('onnxruntime-node') } });
    try {
      const loaded = await new Promise<{ inputs: OnnxValueInfo[]; outputs: OnnxValueInfo[] }>((resolve, reject) => {
        worker.once('message', (message: { type: string; inputs: OnnxValueInfo[]; outputs: OnnxValueInfo[]; message?: string }) => {
          if (message.type === 'loaded') resolve(message);
          else reject(new VersionLoadError('MODEL_UNREADABLE', `not a loadable ONNX model: ${message.message ?? ''}`.trim()));
        });
        worker.once('error', (error) => reject(new VersionLoadError('MODEL_UNREADABLE', error.message)));
        const copy = new Uint8Array(bytes);
        worker.postMessage({ type: 'load', model: copy.buffer, threads }, [copy.buffer]);
      });
      return new ServedVersion(spec, worker, loaded.inputs, loaded.outputs);
    } catch (error) {
      await worker.terminate();
      throw error;
    }
  }

  get version(): string {
    return this.spec.version;
  }

  /**
   * Counts a request as in flight on this version. Called in the same tick as the lookup
   * of the serving pointer, so a switch that flips the pointer after it still waits for it.
   */
  acquire(): () => void {
    this.inflight += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inflight -= 1;
      if (this.inflight === 0) for (const wake of this.idle.splice(0)) wake();
    };
  }

  /** Runs the model on checked feeds in the worker thread. */
  infer(feeds: Record<string, InferFeed>, outputs: string[]): Promise<Record<string, OutputTensor>> {
    const id = (this.nextId += 1);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'run', id, feeds, outputs });
    });
  }

  /** Resolves when no request is in flight, or after `timeoutMs` (true: drained). */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.inflight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idle.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private failAll(error: Error): void {
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }
}
