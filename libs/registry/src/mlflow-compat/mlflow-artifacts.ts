import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { artifactUri, type ContentAddressedStore } from '@mrw/artifacts';
import { ProblemException } from '@mrw/platform';
import type { IndexedArtifact, MlflowArtifactFile, MlflowArtifactIndex } from './mlflow-artifact-index';

/** One entry of a listing, as MLflow's artifact proxy answers it (`path` relative to the listed folder). */
export interface MlflowFileInfo {
  readonly path: string;
  readonly is_dir: boolean;
  readonly file_size?: number;
}

/** What of a registered version decides where MLflow clients download it from. */
export interface VersionFiles {
  readonly model: string;
  readonly version: number;
  readonly source: string;
  readonly artifactDigest: string | null;
}

const MLFLOW_ARTIFACTS_SCHEME = 'mlflow-artifacts:';

/**
 * The folder where each version's files are named for MLflow clients (`get-download-uri`,
 * `models:/name@alias`): `_registry/<model>/<version>/…`, written by the registry only.
 */
const VERSIONS_FOLDER = '_registry';

/** The file name a single-file version is downloaded under: its source's, when that names an `.onnx` file. */
const modelFileName = (source: string): string => {
  const last = source.split(/[?#]/)[0]?.split('/').at(-1) ?? '';
  return /^[A-Za-z0-9._-]{1,200}\.onnx$/i.test(last) ? last : 'model.onnx';
};

/**
 * The relative path of an MLflow artifact (`<experiment>/<run>/artifacts/…`), normalised, or a
 * validation problem: no empty, `.` or `..` segments, no backslashes or NUL, so a path never
 * escapes its folder and every file has exactly one name.
 */
export const normaliseArtifactPath = (raw: string): string => {
  const path = raw.replace(/^\/+/, '').replace(/\/+$/, '');
  const segments = path.split('/');
  if (path === '' || path.length > 1024 || /[\\\0]/.test(path) || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new ProblemException('VALIDATION_FAILED', `invalid artifact path ${JSON.stringify(raw.slice(0, 200))}`, {
      errors: [{ field: 'path', message: 'a relative path without empty, "." or ".." segments' }],
    });
  }
  return path;
};

/**
 * MLflow's artifact proxy namespace (`mlflow-artifacts:/<path>`) over the content-addressed
 * store: uploads are stored by content, and the index (`MlflowArtifactIndex`: a SQLite file of
 * the process, or a table in the event store's PostgreSQL shared by replicas) names them. A
 * file system's directory, not lifecycle: what is governed is the version that later names the
 * bytes by `artifacts://sha256/…`.
 */
export class MlflowArtifacts {
  constructor(
    private readonly store: ContentAddressedStore,
    private readonly index: MlflowArtifactIndex,
    private readonly maxBytes: number,
  ) {}

  /** Streams a body into the store under its sha256 and names it `path` (replacing what the path named). */
  async put(rawPath: string, body: Readable, declaredLength?: number): Promise<MlflowArtifactFile> {
    const path = normaliseArtifactPath(rawPath);
    if (path === VERSIONS_FOLDER || path.startsWith(`${VERSIONS_FOLDER}/`)) {
      throw new ProblemException('VALIDATION_FAILED', `${VERSIONS_FOLDER}/ holds the registered versions' files and is written by the registry only`, {
        errors: [{ field: 'path', message: `must not start with ${VERSIONS_FOLDER}/` }],
      });
    }
    if (declaredLength !== undefined && declaredLength > this.maxBytes) throw this.tooLarge();
    const scratch = await this.store.scratchPath();
    const hash = createHash('sha256');
    let size = 0;
    const limit = this.maxBytes;
    const tooLarge = this.tooLarge();
    const counting = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > limit) return done(tooLarge);
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, counting, createWriteStream(scratch));
    } catch (error) {
      await rm(scratch, { force: true });
      throw error;
    }
    const stored = await this.store.importHashedFile(scratch, `sha256:${hash.digest('hex')}`);
    const file = { digest: stored.digest, size: stored.size };
    await this.index.name(path, file);
    return file;
  }

  /** The file a path names, or undefined. */
  async get(rawPath: string): Promise<(MlflowArtifactFile & { readonly file: string }) | undefined> {
    const found = await this.index.find(normaliseArtifactPath(rawPath));
    return found ? { ...found, file: this.store.pathOf(found.digest) } : undefined;
  }

  /** The files and folders directly under a folder (the root when `rawPath` is empty), by name. */
  async list(rawPath: string | undefined): Promise<MlflowFileInfo[]> {
    const folder = rawPath === undefined || rawPath.replace(/^\/+|\/+$/g, '') === '' ? '' : normaliseArtifactPath(rawPath);
    const prefix = folder === '' ? '' : `${folder}/`;
    const entries = new Map<string, MlflowFileInfo>();
    for (const row of await this.index.under(folder)) {
      const rest = row.path.slice(prefix.length);
      const slash = rest.indexOf('/');
      const name = slash < 0 ? rest : rest.slice(0, slash);
      if (!entries.has(name)) entries.set(name, slash < 0 ? { path: name, is_dir: false, file_size: row.size } : { path: name, is_dir: true });
    }
    return [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /**
   * Our `artifacts://sha256/<hex>` URI for an `mlflow-artifacts:` source (`mlflow-artifacts:/p`,
   * or `mlflow-artifacts://host/p`): the file it names, or, for a folder (an MLflow model
   * directory), its one `.onnx` file; undefined for other sources, unknown paths, or a folder
   * without exactly one `.onnx` file.
   */
  async resolveSource(source: string): Promise<string | undefined> {
    const path = this.folderOf(source);
    if (path === undefined) return undefined;
    const file = await this.index.find(path);
    if (file) return artifactUri(file.digest);
    const models = (await this.index.under(path)).filter((f) => f.path.toLowerCase().endsWith('.onnx'));
    return models.length === 1 ? artifactUri(models[0]!.digest) : undefined;
  }

  /** The path an `mlflow-artifacts:` URI names, or undefined for another scheme or a bad path. */
  private folderOf(source: string): string | undefined {
    if (!source.startsWith(MLFLOW_ARTIFACTS_SCHEME)) return undefined;
    const rest = source.slice(MLFLOW_ARTIFACTS_SCHEME.length);
    // `//host[:port]/path` names the server; the path is what follows the authority.
    const raw = rest.startsWith('//') ? rest.slice(2).replace(/^[^/]*/, '') : rest;
    try {
      return normaliseArtifactPath(decodeURI(raw));
    } catch {
      return undefined;
    }
  }

  /**
   * Where an MLflow client downloads a version from: `mlflow-artifacts:/_registry/<model>/<version>`
   * when its bytes are in our store (see freeze), and otherwise its source as registered (e.g.
   * an `https://` URL, which the client reads itself).
   */
  async downloadUri(version: VersionFiles): Promise<string> {
    const folder = await this.freeze(version);
    return folder === undefined ? version.source : `${MLFLOW_ARTIFACTS_SCHEME}/${folder}`;
  }

  /**
   * Names the version's files under `_registry/<model>/<version>`, once: the folder it was
   * registered from (an MLflow model with its `MLmodel`) when that still holds the registered
   * bytes, else its one model file. Rows name files by digest, so what a client downloads is
   * what was registered, whatever is uploaded later; the first call wins. Undefined when the
   * version's bytes are not in our store.
   */
  async freeze(version: VersionFiles, registeredFrom?: string): Promise<string | undefined> {
    const { artifactDigest: digest } = version;
    if (digest === null || !(await this.store.has(digest))) return undefined;
    const folder = `${VERSIONS_FOLDER}/${version.model}/${version.version}`;
    if ((await this.index.under(folder)).length > 0) return folder;
    const from = registeredFrom === undefined ? undefined : this.folderOf(registeredFrom);
    const files = from === undefined ? [] : await this.index.under(from);
    const entries: IndexedArtifact[] = files.some((f) => f.digest === digest)
      ? files.map((f) => ({ path: `${folder}/${f.path.slice((from as string).length + 1)}`, digest: f.digest, size: f.size }))
      : [{ path: `${folder}/${modelFileName(version.source)}`, digest, size: (await stat(this.store.pathOf(digest))).size }];
    await this.index.nameOnce(entries);
    return folder;
  }

  /** Closes the index when the module stops (Nest calls it on factory-made providers too). */
  async onModuleDestroy(): Promise<void> {
    await this.index.close();
  }

  private tooLarge(): ProblemException {
    return new ProblemException('PAYLOAD_TOO_LARGE', `an artifact may be at most ${this.maxBytes} bytes (MRW_MAX_ARTIFACT_BYTES)`, {}, 413);
  }
}
