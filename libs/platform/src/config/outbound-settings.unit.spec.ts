import { ConfigError, loadConfig } from './config';

describe('outbound and artifact settings', () => {
  it('defaults to no allowed hosts, no file roots and a 4 GiB artifact limit', () => {
    const config = loadConfig({});
    expect(config.outboundAllowedHosts).toEqual([]);
    expect(config.fileSourceRoots).toEqual([]);
    expect(config.maxArtifactBytes).toBe(4 * 1024 ** 3);
  });

  it('reads the allow-list, the roots and the limit', () => {
    const config = loadConfig({
      MRW_OUTBOUND_ALLOWED_HOSTS: 'models.internal, 10.0.0.0/8',
      MRW_FILE_SOURCE_ROOTS: '/srv/models, /data/models/',
      MRW_MAX_ARTIFACT_BYTES: '1048576',
    });
    expect(config.outboundAllowedHosts).toEqual([
      { kind: 'host', host: 'models.internal' },
      { kind: 'cidr', cidr: '10.0.0.0/8' },
    ]);
    expect(config.fileSourceRoots).toEqual(['/srv/models', '/data/models']);
    expect(config.maxArtifactBytes).toBe(1048576);
  });

  it.each([
    [{ MRW_OUTBOUND_ALLOWED_HOSTS: 'models.internal, not a host' }, /MRW_OUTBOUND_ALLOWED_HOSTS: "not a host" is not a hostname/],
    [{ MRW_OUTBOUND_ALLOWED_HOSTS: 'https://models.internal' }, /MRW_OUTBOUND_ALLOWED_HOSTS: "https:\/\/models.internal" is a URL/],
    [{ MRW_FILE_SOURCE_ROOTS: 'models' }, /MRW_FILE_SOURCE_ROOTS: "models" is not an absolute directory/],
    [{ MRW_MAX_ARTIFACT_BYTES: '4GiB' }, /MRW_MAX_ARTIFACT_BYTES=4GiB is not a positive whole number of bytes/],
    [{ MRW_MAX_ARTIFACT_BYTES: '0' }, /MRW_MAX_ARTIFACT_BYTES=0/],
  ])('refuses %j at start with what to fix', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
