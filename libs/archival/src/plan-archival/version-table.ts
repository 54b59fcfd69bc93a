/** How many consecutive version numbers share one chunk of a VersionTable. */
const CHUNK_BITS = 6;

/**
 * A model's versions by number, in number order, persistent: `with` answers a new table and
 * leaves this one as it was, copying only the chunk of 64 numbers that changed and the list of
 * chunks. A model with thousands of versions then costs the archival service a few hundred
 * steps per event folded instead of a copy of every version.
 */
export class VersionTable<V extends { readonly version: number }> implements ReadonlyMap<number, V> {
  private constructor(
    /** Chunk `i` holds the versions numbered `i * 64` to `i * 64 + 63`, in number order. */
    private readonly chunks: ReadonlyArray<readonly V[] | undefined>,
    readonly size: number,
  ) {}

  static empty<V extends { readonly version: number }>(): VersionTable<V> {
    return new VersionTable<V>([], 0);
  }

  /** A table with `entry` under its version number, added or replacing the one there. */
  with(entry: V): VersionTable<V> {
    const { version } = entry;
    if (!Number.isSafeInteger(version) || version < 0) throw new RangeError(`VersionTable: invalid version number ${version}`);
    const index = version >>> CHUNK_BITS;
    if (index >= 2 ** 24) throw new RangeError(`VersionTable: version number ${version} is too large`);
    const chunk = this.chunks[index] ?? [];
    const at = chunk.findIndex((v) => v.version >= version);
    const replaces = at >= 0 && (chunk[at] as V).version === version;
    const changed = at < 0 ? [...chunk, entry] : [...chunk.slice(0, at), entry, ...chunk.slice(replaces ? at + 1 : at)];
    const chunks = this.chunks.slice();
    chunks[index] = changed;
    return new VersionTable(chunks, this.size + (replaces ? 0 : 1));
  }

  get(version: number): V | undefined {
    if (!Number.isSafeInteger(version) || version < 0) return undefined;
    return this.chunks[version >>> CHUNK_BITS]?.find((v) => v.version === version);
  }

  has(version: number): boolean {
    return this.get(version) !== undefined;
  }

  /** The highest version number held, or undefined when empty. */
  last(): V | undefined {
    for (let i = this.chunks.length - 1; i >= 0; i -= 1) {
      const chunk = this.chunks[i];
      if (chunk && chunk.length > 0) return chunk[chunk.length - 1];
    }
    return undefined;
  }

  *values(): MapIterator<V> {
    for (const chunk of this.chunks) if (chunk) yield* chunk;
  }

  *keys(): MapIterator<number> {
    for (const v of this.values()) yield v.version;
  }

  *entries(): MapIterator<[number, V]> {
    for (const v of this.values()) yield [v.version, v];
  }

  [Symbol.iterator](): MapIterator<[number, V]> {
    return this.entries();
  }

  forEach(callback: (value: V, key: number, map: ReadonlyMap<number, V>) => void, thisArg?: unknown): void {
    for (const v of this.values()) callback.call(thisArg, v, v.version, this);
  }
}
