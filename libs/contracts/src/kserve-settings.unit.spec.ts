import { inferenceServiceName, parseQuantity, readKServeSettings, storageUriFrom } from './kserve-settings';

describe('kserve settings', () => {
  it('derives an InferenceService name KServe accepts from any model name', () => {
    expect(inferenceServiceName('churn')).toBe('churn');
    expect(inferenceServiceName('Churn_Model')).toBe('churn-model');
    expect(inferenceServiceName('fraud.v2--eu_')).toBe('fraud-v2-eu');
    expect(inferenceServiceName('2fa-risk')).toBe('m-2fa-risk');
    const long = inferenceServiceName(`${'a'.repeat(46)}_b`);
    expect(long).toBe('a'.repeat(46));
    for (const name of ['Churn_Model', '2fa-risk', 'x'.repeat(128), '_._']) {
      expect(readKServeSettings({ name: inferenceServiceName(name) }).problems).toEqual([]);
    }
  });

  it('fills a storage URI template; {digest} is the hex without sha256:, and has no value without a digest', () => {
    const facts = { model: 'churn', version: 7, digest: `sha256:${'b'.repeat(64)}` };
    expect(storageUriFrom('s3://m/{model}/{version}/{digest}/{model}', facts)).toBe(`s3://m/churn/7/${'b'.repeat(64)}/churn`);
    expect(storageUriFrom('s3://m/{model}/{version}', { ...facts, digest: null })).toBe('s3://m/churn/7');
    expect(storageUriFrom('s3://m/{digest}', { ...facts, digest: null })).toBeUndefined();
  });

  it('reads Kubernetes quantities', () => {
    expect(['500m', '2', '1.5', '.5', '1Gi', '512Mi', '1e3', '2k', '3M'].map(parseQuantity)).toEqual([0.5, 2, 1.5, 0.5, 2 ** 30, 512 * 2 ** 20, 1000, 2000, 3e6]);
    expect(['', 'two', '-1', '1 Gi', '1GB', 'Gi'].map(parseQuantity)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  it('defaults to GitOps into namespace default with the onnx format', () => {
    expect(readKServeSettings({})).toEqual({
      settings: {
        namespace: 'default',
        name: null,
        modelFormat: 'onnx',
        runtime: null,
        storageUri: null,
        resources: null,
        serviceAccountName: null,
        apiServer: null,
        tokenEnv: null,
        caCertEnv: null,
      },
      problems: [],
    });
    expect(readKServeSettings({ apiServer: 'https://kube.example.com:6443/' }).settings.apiServer).toBe('https://kube.example.com:6443');
  });
});
