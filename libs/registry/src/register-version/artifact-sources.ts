import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Inject, Injectable } from '@nestjs/common';
import { ContentAddressedStore, digestFile, digestOfArtifactUri } from '@mrw/artifacts';
import { ProblemException, SUITE_CONFIG, type SuiteConfig } from '@mrw/platform';

export const ARTIFACT_STORE = Symbol('ARTIFACT_STORE');

/**
 * Checks a version's source before it is registered and settles its digest: uploaded
 * artifacts are known by digest; `file://` paths are hashed (when the operator allows them);
 * `http(s)://` sources keep the digest the client declares, verified when evaluated.
 */
@Injectable()
export class ArtifactSources {
  constructor(
    @Inject(ARTIFACT_STORE) private readonly artifacts: ContentAddressedStore,
    @Inject(SUITE_CONFIG) private readonly config: SuiteConfig,
  ) {}

  async resolve(source: string, declared: string | undefined): Promise<{ source: string; digest: string | null }> {
    const stored = digestOfArtifactUri(source);
    if (stored) {
      if (!(await this.artifacts.has(stored))) {
        throw new ProblemException('ARTIFACT_NOT_FOUND', `no uploaded artifact ${source}: POST it to /api/v1/artifacts first`);
      }
      return { source, digest: this.match(stored, declared) };
    }
    if (source.startsWith('file://')) {
      if (!this.config.allowFileSources) {
        throw new ProblemException('FILE_SOURCE_NOT_ALLOWED', 'file:// sources are disabled here (MRW_ALLOW_FILE_SOURCES=true enables them); upload the file to /api/v1/artifacts instead');
      }
      let path: string;
      try {
        path = fileURLToPath(source);
      } catch {
        throw new ProblemException('INVALID_SOURCE', `${source} is not a valid file:// URL`);
      }
      const info = await stat(path).catch(() => undefined);
      if (!info?.isFile()) throw new ProblemException('INVALID_SOURCE', `${path} is not a readable file on the registry's host`);
      return { source, digest: this.match(await digestFile(path), declared) };
    }
    if (/^https?:\/\//.test(source)) {
      try {
        new URL(source);
      } catch {
        throw new ProblemException('INVALID_SOURCE', `${source} is not a valid URL`);
      }
      return { source, digest: declared ?? null };
    }
    throw new ProblemException('INVALID_SOURCE', `unsupported source ${source}: use an artifacts:// URI from /api/v1/artifacts, an http(s):// URL or a file:// path`);
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
}
