import { Metrics, type MetricsOfProcess } from './metrics';

describe('Metrics: the exposition of the processes serving one port', () => {
  const lines = (text: string, name: string) => text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));

  it('reports this process alone, unlabelled, when nobody else reports', async () => {
    const suite = new Metrics();
    suite.httpRequests.observe({ method: 'GET', route: '/api/v1/models', status: '200' }, 0.002);
    const text = await suite.exposition();
    expect(text).not.toContain('serving_process');
    expect(lines(text, 'mrw_http_request_duration_seconds_count')).toEqual(['mrw_http_request_duration_seconds_count{method="GET",route="/api/v1/models",status="200"} 1']);
  });

  it("keeps every process's series apart by their serving_process, every family included", async () => {
    const suite = new Metrics();
    const reader = new Metrics();
    reader.nameProcess('reader-1');
    suite.httpRequests.observe({ method: 'GET', route: '/api/v1/models', status: '200' }, 0.002);
    for (let n = 0; n < 3; n += 1) reader.httpRequests.observe({ method: 'GET', route: '/api/v1/models', status: '200' }, 0.002);
    suite.gatherFrom(async () => [await reader.registry.getMetricsAsJSON()]);
    const text = await suite.exposition();
    expect(lines(text, 'mrw_http_request_duration_seconds_count')).toEqual([
      'mrw_http_request_duration_seconds_count{method="GET",route="/api/v1/models",status="200"} 1',
      'mrw_http_request_duration_seconds_count{method="GET",route="/api/v1/models",status="200",serving_process="reader-1"} 3',
    ]);
    expect(lines(text, 'mrw_http_request_duration_seconds_bucket').filter((line) => line.includes('le="0.005"'))).toHaveLength(2);
    // A family prom-client marks to be omitted when it aggregates workers: each process's is kept.
    expect(lines(text, 'process_start_time_seconds').map((line) => line.split(' ')[0])).toEqual([
      'process_start_time_seconds',
      'process_start_time_seconds{serving_process="reader-1"}',
    ]);
    expect(lines(text, 'nodejs_version_info')).toHaveLength(2);
  });

  it("reports this process's own series when another's do not merge", async () => {
    const suite = new Metrics();
    suite.gatherFrom(async () => [[{ name: 'broken', help: 'h', type: 'no-such-type', values: 'not an array' }] as unknown as MetricsOfProcess]);
    const text = await suite.exposition();
    expect(text).toContain('process_start_time_seconds ');
    expect(text).not.toContain('broken');
  });
});
