import { stat } from 'node:fs/promises';
import { Inject, Injectable } from '@nestjs/common';
import { ContentAddressedStore, digestFile, digestOfArtifactUri, FileSourceError, resolveFileSource } from '@mrw/artifacts';
import { findUrlCredentials, OutboundError, OutboundHttp } from '@mrw/outbound';
import { ProblemException, SUITE_CONFIG, type SuiteConfig } from '@mrw/platform';

export const ARTIFACT_STORE = Symbol('ARTIFACT_STORE');

const FILE_SOURCE_PROBLEMS: Readonly<Record<FileSourceError['code'], string>> = {
  SOURCE_NOT_ALLOWED: 'FILE_SOURCE_NOT_ALLOWED',
  INVALID_SOURCE: 'INVALID_SOURCE',
  ARTIFACT_MISSING: 'INVALID_SOURCE',
};

/**
 * Checks a version's source before it is registered and settles its digest: uploaded
 * artifacts are known by digest; `file://` paths are hashed (where the operator allows them);
 * `http(s)://` sources keep the digest the client declares, verified when evaluated. A source
 * enters the immutable log, every viewer's responses and Kafka, so one that carries a credential,
 * or points where outbound calls are refused, is turned away here rather than stored.
 */
@Injectable()
export class ArtifactSources {
  constructor(
    @Inject(ARTIFACT_STORE) private readonly artifacts: ContentAddressedStore,
    @Inject(SUITE_CONFIG) private readonly config: SuiteConfig,
    private readonly http: OutboundHttp,
  ) {}

  async resolve(source: string, declared: string | undefined): Promise<{ source: string; digest: string | null }> {
    const stored = digestOfArtifactUri(source);
    if (stored) {
      if (!(await this.artifacts.has(stored))) {
        throw new ProblemException('ARTIFACT_NOT_FOUND', `no uploaded artifact ${source}: POST it to /api/v1/artifacts first`);
      }
      return { source, digest: this.match(stored, declared) };
    }
    if (source.startsWith('file://')) return { source, digest: this.match(await this.hashFile(source), declared) };
    if (/^https?:\/\//.test(source)) {
      await this.checkUrl(source);
      return { source, digest: declared ?? null };
    }
    throw new ProblemException('INVALID_SOURCE', `unsupported source ${source}: use an artifacts:// URI from /api/v1/artifacts, an http(s):// URL or a file:// path`);
  }

  private async hashFile(source: string): Promise<string> {
    const fileSources = { allowed: this.config.allowFileSources, roots: this.config.fileSourceRoots };
    const path = await resolveFileSource(source, fileSources).catch((error: unknown) => {
      if (error instanceof FileSourceError) {
        const hint = error.code === 'SOURCE_NOT_ALLOWED' ? '; upload the file to /api/v1/artifacts instead' : '';
        throw new ProblemException(FILE_SOURCE_PROBLEMS[error.code], `${error.message}${hint}`);
      }
      throw error;
    });
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) throw new ProblemException('INVALID_SOURCE', `${path} is not a readable file on the registry's host`);
    if (info.size > this.config.maxArtifactBytes) {
      throw new ProblemException('ARTIFACT_TOO_LARGE', `${path} is ${info.size} bytes, above the ${this.config.maxArtifactBytes}-byte limit (MRW_MAX_ARTIFACT_BYTES)`);
    }
    return digestFile(path);
  }

  private match(actual: string, declared: string | undefined): string {
    if (declared !== undefined && declared !== actual) {
      throw new ProblemException('DIGEST_MISMATCH', `the source's digest is ${actual}, not the declared ${declared}`, {
        actual,
        declared,
      });
    }
    return actual;
  }

  private async checkUrl(source: string): Promise<void> {
    let url: URL;
    try {
      url = new URL(source);
    } catch {
      throw new ProblemException('INVALID_SOURCE', 'the source is not a valid URL');
    }
    const credentials = findUrlCredentials(url);
    if (credentials) {
      // The message leaves the URL out: echoing it would hand the secret back in logs and responses.
      throw new ProblemException(
        'SOURCE_HAS_CREDENTIALS',
        `the source URL carries a credential (${credentials}); a source is stored in the immutable log and shown to every viewer, ` +
          'so upload the artifact to POST /api/v1/artifacts and register its artifacts:// URI, or use a URL that needs no credentials',
      );
    }
    await this.http.check(url).catch((error: unknown) => {
      if (error instanceof OutboundError) throw new ProblemException(error.code, error.message, { ...error.details }, 422);
      throw error;
    });
  }
}
