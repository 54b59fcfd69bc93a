import type { Artifact, EvaluationSetVersion, ModelVersion, RegisterVersionInput } from './api-types';
import { MrwApi } from './mrw-api';
import { MrwDigestMismatchError } from './mrw-errors';
import { multipartBody, type UploadPart, type UploadProgress } from './multipart-upload';
import { API_ROUTES, type ApiRouteName } from './api-routes';

export interface UploadOptions {
  readonly onProgress?: (progress: UploadProgress) => void;
}

export interface RegisterFromFileOptions extends UploadOptions {
  readonly idempotencyKey?: string;
}

/** The uploaded artifact and the version registered from it. */
export interface RegisteredFromFile {
  readonly artifact: Artifact;
  readonly version: ModelVersion;
}

/** The registry's API client for Node: everything `MrwApi` does, plus streaming uploads of local files. */
export class MrwClient extends MrwApi {
  /** Uploads a local model file, then registers a version of it pinned to the digest computed while sending. */
  async registerVersionFromFile(
    name: string,
    path: string,
    input: Omit<RegisterVersionInput, 'source' | 'artifactDigest'> = {},
    options: RegisterFromFileOptions = {},
  ): Promise<RegisteredFromFile> {
    const artifact = await this.uploadArtifact(path, options);
    const version = await this.registerVersion(
      name,
      { ...input, source: artifact.uri, artifactDigest: artifact.digest },
      options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {},
    );
    return { artifact, version };
  }

  /**
   * Streams a file to the content-addressed artifact store; the sha256 is computed from the bytes
   * sent and must equal the one the registry stored, else `MrwDigestMismatchError`.
   */
  async uploadArtifact(path: string, options: UploadOptions = {}): Promise<Artifact> {
    const { result, digest } = await this.upload<Artifact>('uploadArtifact', {}, [{ name: 'file', path }], options);
    if (result.digest !== digest) throw new MrwDigestMismatchError(digest, result.digest);
    return result;
  }

  /** Uploads a version of a standard evaluation set (admin): the data file and its manifest. */
  async uploadEvaluationSet(name: string, path: string, manifest: unknown, options: UploadOptions = {}): Promise<EvaluationSetVersion> {
    const parts: UploadPart[] = [{ name: 'file', path }, { name: 'manifest', value: typeof manifest === 'string' ? manifest : JSON.stringify(manifest) }];
    return (await this.upload<EvaluationSetVersion>('uploadEvaluationSet', { name }, parts, options)).result;
  }

  protected async upload<T>(
    name: ApiRouteName,
    params: Readonly<Record<string, string>>,
    parts: readonly UploadPart[],
    options: UploadOptions,
  ): Promise<{ result: T; digest: string }> {
    const { method } = API_ROUTES[name];
    const url = this.urlOf(name, params);
    const multipart = await multipartBody(parts, options.onProgress);
    const response = await this.send(url, {
      method,
      headers: this.headers({ 'content-type': multipart.contentType, 'content-length': String(multipart.contentLength) }),
      body: multipart.body,
      duplex: 'half',
    });
    const result = await this.answer<T>(response, method, url);
    return { result, digest: await multipart.digest };
  }

}
