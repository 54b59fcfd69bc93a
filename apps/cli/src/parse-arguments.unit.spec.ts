import { InvalidArgumentError } from 'commander';
import { collectMetric, collectPair, durationMs, isSourceUri, numberMap, stringMap, timestamp, versionNumber } from './parse-arguments';

/** The command line's values: what `mrw` accepts, and what is a usage error (exit 2). */
describe('mrw arguments', () => {
  it('reads --timeout as 90s, 10m, 1h30m, 500ms, bare seconds or ISO 8601', () => {
    expect(durationMs('90s')).toBe(90_000);
    expect(durationMs('10m')).toBe(600_000);
    expect(durationMs('1h30m')).toBe(5_400_000);
    expect(durationMs('500ms')).toBe(500);
    expect(durationMs('45')).toBe(45_000);
    expect(durationMs('PT10M')).toBe(600_000);
    for (const bad of ['10 minutes', 'm10', '', '1x', 'P']) expect(() => durationMs(bad)).toThrow(InvalidArgumentError);
  });

  it('reads --metric k=v as numbers and --tag k=v as strings, keeping = in values', () => {
    expect(numberMap(['val_auc=0.91', 'loss=-1e-3'])).toEqual({ val_auc: 0.91, loss: -0.001 });
    expect(stringMap(['framework=sklearn', 'query=a=b'])).toEqual({ framework: 'sklearn', query: 'a=b' });
    expect(collectMetric('auc=0.9', ['f1=0.8'])).toEqual(['f1=0.8', 'auc=0.9']);
    expect(() => collectMetric('auc=high')).toThrow('--metric auc=high: the value must be a number');
    expect(() => collectMetric('auc=')).toThrow(InvalidArgumentError);
    expect(() => collectPair('no-equals')).toThrow(InvalidArgumentError);
    expect(() => collectPair('=value')).toThrow(InvalidArgumentError);
  });

  it('takes positive version numbers only', () => {
    expect(versionNumber('7')).toBe(7);
    for (const bad of ['0', '-1', '1.5', 'v7', '']) expect(() => versionNumber(bad)).toThrow(InvalidArgumentError);
  });

  it('sends timestamps as ISO 8601 UTC', () => {
    expect(timestamp('2026-11-27T13:00:00+01:00')).toBe('2026-11-27T12:00:00.000Z');
    expect(() => timestamp('last tuesday')).toThrow(InvalidArgumentError);
  });

  it('tells a URI for the registry to fetch from a local path', () => {
    expect(isSourceUri('artifacts://sha256/abc')).toBe(true);
    expect(isSourceUri('https://models.example.com/m.onnx')).toBe(true);
    expect(isSourceUri('file:///srv/models/m.onnx')).toBe(true);
    expect(isSourceUri('./model.onnx')).toBe(false);
    expect(isSourceUri('/tmp/https:/model.onnx')).toBe(false);
  });
});
