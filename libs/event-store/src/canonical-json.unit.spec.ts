import { canonicalJson, encode, encodeBounded, TOO_DEEP } from './canonical-json';

describe('canonicalJson', () => {
  it('sorts keys at every depth and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { z: [3, { y: 1, x: 2 }], c: null } })).toBe('{"a":{"c":null,"z":[3,{"x":2,"y":1}]},"b":1}');
  });

  it('does not depend on key insertion order', () => {
    expect(canonicalJson({ a: 1, b: { c: 2, d: 3 } })).toBe(canonicalJson({ b: { d: 3, c: 2 }, a: 1 }));
  });

  it('sorts by UTF-16 code units and escapes strings as JSON does', () => {
    expect(canonicalJson({ é: 1, Z: 2, a: 3, '\u0000': 4 })).toBe('{"\\u0000":4,"Z":2,"a":3,"é":1}');
    expect(canonicalJson('line\n"quote"')).toBe('"line\\n\\"quote\\""');
  });

  it('follows JSON for numbers, undefined properties, undefined array items and toJSON', () => {
    expect(canonicalJson([1e21, 0.1, -0, 5])).toBe('[1e+21,0.1,0,5]');
    expect(canonicalJson({ kept: 1, gone: undefined })).toBe('{"kept":1}');
    expect(canonicalJson([undefined])).toBe('[null]');
    expect(canonicalJson({ at: new Date('2030-01-01T00:00:00Z') })).toBe('{"at":"2030-01-01T00:00:00.000Z"}');
  });

  it.each([
    ['NaN', { x: Number.NaN }, /non-finite number at \$\.x/],
    ['Infinity', [Number.POSITIVE_INFINITY], /non-finite number at \$\[0\]/],
    ['bigint', { n: 1n }, /bigint at \$\.n/],
    ['function', { f: () => 1 }, /function/],
    ['Map', { m: new Map() }, /Map/],
    ['top-level undefined', undefined, /top-level/],
  ])('rejects %s', (_label, value, message) => {
    expect(() => canonicalJson(value)).toThrow(message);
  });

  it('rejects cycles but accepts shared (non-cyclic) references', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/cycle/);
    const shared = { v: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"v":1},"b":{"v":1}}');
  });
});


describe('encodeBounded (the append path\'s encoder)', () => {
  const careful = (value: unknown): string | undefined => encode(value, [], []);

  class Point {
    constructor(readonly y: number, readonly x: number) {}
  }
  const shared = { v: 1 };
  const values: Array<[string, unknown]> = [
    ['a string with escapes and a surrogate pair', 'line\n"quote" \u{1F600} \u0000'],
    ['numbers', [0, -0, 1e21, 0.1, -5e-7, Number.MAX_SAFE_INTEGER]],
    ['nested objects in any key order', { b: 1, a: { z: [3, { y: 1, x: 2 }], c: null }, é: true, Z: false }],
    ['undefined members and array items', { kept: 1, gone: undefined, list: [undefined, 2] }],
    ['a null-prototype object', Object.assign(Object.create(null) as object, { b: 2, a: 1 })],
    ['a class instance', new Point(2, 1)],
    ['a Date (toJSON)', { at: new Date('2030-01-01T00:00:00Z'), n: 1 }],
    ['shared references', { a: shared, b: shared }],
    ['an empty object and array', { o: {}, a: [] }],
  ];

  it.each(values)('writes what the careful encoder writes: %s', (_label, value) => {
    expect(encodeBounded(value, 1, 128)).toBe(careful(value));
  });

  it.each([
    ['NaN', { x: Number.NaN }, /non-finite number at \$\.x/],
    ['bigint', { deep: [{ n: 1n }] }, /bigint at \$\.deep\[0\]\.n/],
    ['a function', { f: () => 1 }, /function at \$\.f/],
    ['a Map', { m: new Map() }, /Map at \$\.m/],
  ])('throws the careful encoder\'s error, with its path, for %s', (_label, value, message) => {
    expect(() => encodeBounded(value, 1, 128)).toThrow(message);
  });

  it('answers TOO_DEEP past the bound, counting the value itself at the depth given, and for a cycle', () => {
    let deep: unknown = 1;
    for (let level = 0; level < 4; level += 1) deep = [deep];
    expect(encodeBounded(deep, 1, 4)).toBe('[[[[1]]]]');
    expect(encodeBounded(deep, 2, 4)).toBe(TOO_DEEP);
    expect(encodeBounded([deep], 1, 4)).toBe(TOO_DEEP);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    expect(encodeBounded(cyclic, 1, 128)).toBe(TOO_DEEP);
    // Too deep wins over a value JSON cannot hold, as the depth check came first before.
    expect(encodeBounded([[[[[Number.NaN]]]]], 1, 4)).toBe(TOO_DEEP);
  });
});
