import fc from 'fast-check';
import { VersionTable } from './version-table';

const entry = (version: number, label = 'a') => ({ version, label });

describe('VersionTable', () => {
  it('behaves as a Map kept in number order, whatever order versions arrive in', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1_000 }), fc.string({ maxLength: 3 })), { maxLength: 200 }), (writes) => {
        let table = VersionTable.empty<{ version: number; label: string }>();
        const model = new Map<number, { version: number; label: string }>();
        for (const [version, label] of writes) {
          table = table.with(entry(version, label));
          model.set(version, entry(version, label));
        }
        const sorted = [...model.entries()].sort(([a], [b]) => a - b);
        expect([...table]).toEqual(sorted);
        expect([...table.keys()]).toEqual(sorted.map(([k]) => k));
        expect(table.size).toBe(model.size);
        expect(table.last()).toEqual(sorted[sorted.length - 1]?.[1]);
        for (const [version, value] of model) expect(table.get(version)).toEqual(value);
        expect(table.has(1_001)).toBe(false);
      }),
    );
  });

  it('leaves the table it was made from unchanged (persistent)', () => {
    const one = VersionTable.empty<{ version: number; label: string }>().with(entry(1)).with(entry(70));
    const two = one.with(entry(1, 'changed')).with(entry(2));
    expect([...one.values()]).toEqual([entry(1), entry(70)]);
    expect([...two.values()]).toEqual([entry(1, 'changed'), entry(2), entry(70)]);
  });

  it('refuses a number that is not a version', () => {
    const table = VersionTable.empty<{ version: number }>();
    expect(() => table.with({ version: -1 })).toThrow(RangeError);
    expect(() => table.with({ version: 1.5 })).toThrow(RangeError);
    expect(table.get(Number.NaN)).toBeUndefined();
  });

  it('changes a table of 100,000 versions without copying them all', () => {
    let table = VersionTable.empty<{ version: number }>();
    for (let v = 1; v <= 100_000; v += 1) table = table.with({ version: v });
    const started = performance.now();
    for (let v = 1; v <= 10_000; v += 1) table = table.with({ version: v });
    // A whole copy per change would be 10,000 × 100,000 steps (seconds); chunked, it is milliseconds.
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(table.size).toBe(100_000);
  });
});
