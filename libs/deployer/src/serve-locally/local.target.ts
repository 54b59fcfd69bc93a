import { createHash } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { ContentAddressedStore, fetchArtifact } from '@mrw/artifacts';
import { OutboundHttp } from '@mrw/outbound';
import { SUITE_CONFIG, type SuiteConfig } from '@mrw/platform';
import { DeploymentTargets, TargetRefusedError, TargetUnavailableError, type DeploymentTargetKind, type TargetTrigger, type TriggerResult } from '../deployment-targets/deployment-target';
import { LocalRuntime, LocalRuntimeError, type LocalEndpoint } from './local-runtime';

/** A version to serve and where its model file is. */
export interface ServedArtifact {
  readonly model: string;
  readonly version: number;
  readonly artifactUri: string;
  readonly artifactDigest: string | null;
}

/** What no retry can mend: the model file itself is wrong. */
const REFUSALS = new Set(['ARTIFACT_UNREADABLE', 'DIGEST_MISMATCH', 'MODEL_UNREADABLE']);

/**
 * The `local` deployment target: the version is served by this deployer's own Open Inference
 * Protocol runtime, one process per environment, switched without a failed request. The target
 * knows when the version serves, so it reports success itself, with the endpoint.
 */
@Injectable()
export class LocalTarget implements DeploymentTargetKind, OnApplicationShutdown {
  readonly kind = 'local';
  private readonly runtime = new LocalRuntime();
  private readonly store: ContentAddressedStore;

  constructor(
    targets: DeploymentTargets,
    private readonly http: OutboundHttp,
    @Inject(SUITE_CONFIG) private readonly config: SuiteConfig,
  ) {
    this.store = new ContentAddressedStore(config.artifactsDir);
    targets.register(this);
  }

  async trigger(request: TargetTrigger): Promise<TriggerResult> {
    const served = await this.serve(request.environment, request);
    return { outcome: 'succeeded', endpoint: served.endpoint };
  }

  /**
   * Serves a version in an environment of the runtime (`production`, `shadow`, …), once it
   * answers ready; serving what already serves is a no-op. A bad model file is refused
   * (TargetRefusedError); anything else may pass (TargetUnavailableError).
   */
  async serve(environment: string, version: ServedArtifact): Promise<LocalEndpoint> {
    try {
      const { artifactPath, digest } = await this.artifactOf(version);
      return await this.runtime.deploy(environment, { model: version.model, version: String(version.version), artifactPath, digest });
    } catch (error) {
      if (error instanceof LocalRuntimeError && REFUSALS.has(error.code)) throw new TargetRefusedError(`${error.code}: ${error.message}`);
      if (error instanceof LocalRuntimeError) throw new TargetUnavailableError(`${error.code}: ${error.message}`);
      throw error;
    }
  }

  /** The model file in the content-addressed store, fetched (and verified) first when it came from elsewhere. */
  private async artifactOf(request: ServedArtifact): Promise<{ artifactPath: string; digest: string }> {
    const bytes = await fetchArtifact(request.artifactUri, request.artifactDigest, {
      store: this.store,
      http: this.http,
      fileSources: { allowed: this.config.allowFileSources, roots: this.config.fileSourceRoots },
      maxBytes: this.config.maxArtifactBytes,
    });
    const digest = request.artifactDigest ?? `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    return { artifactPath: this.store.pathOf(digest), digest };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runtime.stopAll();
  }
}
