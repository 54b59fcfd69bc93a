import { servedByReaders } from './registry-reads.module';

describe('what a reader process serves itself', () => {
  it.each([
    '/api/v1/models',
    '/api/v1/models?q=churn&limit=5',
    '/api/v1/models/churn',
    '/api/v1/models/team%2Fchurn',
    '/api/v1/models/churn/versions',
    '/api/v1/models/churn/versions?stage=Production',
    '/api/v1/models/churn/versions/3',
    '/api/v1/models/churn/versions/3?asOf=2026-11-01T00:00:00Z',
    '/api/v1/board',
  ])('GET and HEAD of the catalog: %s', (url) => {
    expect(servedByReaders('GET', url)).toBe(true);
    expect(servedByReaders('HEAD', url)).toBe(true);
  });

  it.each(['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])('no %s, whatever the path', (method) => {
    expect(servedByReaders(method, '/api/v1/models/churn/versions')).toBe(false);
  });

  it.each([
    '/api/v1/models/churn/versions/3/evaluations',
    '/api/v1/models/churn/aliases',
    '/api/v1/models/churn/versions/3/transitions',
    '/api/v1/models/',
    '/api/v1/boards',
    '/api/v1/audit',
    '/api/v1/events/stream',
    '/api/2.0/mlflow/model-versions/get?name=churn&version=3',
    '/readyz',
    '/metrics',
    '/api/v1/models/../tokens',
  ])('nothing else: %s goes on to the suite', (url) => {
    expect(servedByReaders('GET', url)).toBe(false);
  });
});
