/** Canonical JSON: the one encoding an event's hash covers and the store keeps. */

/**
 * Canonical JSON: object keys sorted (UTF-16 code unit order) at every depth, no
 * whitespace, numbers and strings as `JSON.stringify` writes them, so it matches
 * RFC 8785 (JCS) for ordinary input.
 *
 * It follows JSON's own conversions where they are lossless on a round trip through
 * storage (`toJSON()`, `undefined` properties dropped, `undefined` array items as
 * `null`), so the hash of an event before it is stored equals the hash recomputed from
 * what is read back. Where JSON would silently lose data it throws instead: non-finite
 * numbers, bigint, functions, symbols, Map/Set/typed arrays, cycles.
 */
export function canonicalJson(value: unknown): string {
  const encoded = encode(value, [], []);
  if (encoded === undefined) {
    throw new TypeError('canonicalJson: the top-level value is not representable in JSON');
  }
  return encoded;
}

/** `$.a[2].b`, built only when an error needs it: the hot path keeps a stack of keys, not strings. */
const pathOf = (keys: ReadonlyArray<string | number>): string =>
  `$${keys.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('')}`;

/**
 * One value in canonical JSON, with every check and an error that names the path of what JSON
 * cannot hold. The objects being encoded are kept in an array: a cycle is at most as deep as the
 * nesting, which is shallow.
 */
export function encode(value: unknown, keys: Array<string | number>, ancestors: object[]): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number at ${pathOf(keys)}`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return undefined;
    case 'bigint':
      throw new TypeError(`canonicalJson: bigint at ${pathOf(keys)} (encode it as a string)`);
    case 'function':
    case 'symbol':
      throw new TypeError(`canonicalJson: ${typeof value} at ${pathOf(keys)}`);
  }
  if (value === null) return 'null';
  const object = value as object;
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') {
    return encode((object as { toJSON: (key: string) => unknown }).toJSON(pathOf(keys)), keys, ancestors);
  }
  const isArray = Array.isArray(object);
  if (!isArray) {
    const prototype = Object.getPrototypeOf(object) as unknown;
    if (prototype !== Object.prototype && prototype !== null && (object instanceof Map || object instanceof Set || ArrayBuffer.isView(object) || object instanceof ArrayBuffer)) {
      throw new TypeError(`canonicalJson: ${object.constructor.name} at ${pathOf(keys)} has no faithful JSON form`);
    }
  }
  if (ancestors.includes(object)) throw new TypeError(`canonicalJson: cycle at ${pathOf(keys)}`);
  ancestors.push(object);
  let out: string;
  if (isArray) {
    const array = object as unknown[];
    out = '[';
    for (let index = 0; index < array.length; index += 1) {
      keys.push(index);
      out += `${index > 0 ? ',' : ''}${encode(array[index], keys, ancestors) ?? 'null'}`;
      keys.pop();
    }
    out += ']';
  } else {
    const names = Object.keys(object);
    if (!inOrder(names)) names.sort();
    out = '{';
    for (const key of names) {
      keys.push(key);
      const member = encode((object as Record<string, unknown>)[key], keys, ancestors);
      keys.pop();
      if (member === undefined) continue;
      out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${member}`;
    }
    out += '}';
  }
  ancestors.pop();
  return out;
}

/** Whether keys are already in canonical (UTF-16 code unit) order, as most objects written in code are not, but stored ones are. */
export const inOrder = (names: readonly string[]): boolean => {
  for (let i = 1; i < names.length; i += 1) if ((names[i - 1] as string) > (names[i] as string)) return false;
  return true;
};

/** Thrown inside `encodeBounded` when a value needs the careful encoder: never escapes it. */
const NEEDS_CARE: unique symbol = Symbol('needs the careful encoder');

/**
 * `encode` for the append path, where every event's data and metadata pass through it: the same
 * text for every value that has it, at about half the cost. It keeps no path and no ancestors;
 * anything unusual (`toJSON`, a non-finite number, a bigint, a function or symbol, an object
 * that is neither plain nor an array, or nesting past `maxDepth`) hands the whole value to
 * `encode`, whose answer or error is the one given. A cycle nests past any depth, so the
 * depth bound finds it.
 *
 * `depth` is the nesting of `value` itself when it is an object (1 for a top-level object), as
 * `nestsDeeperThan` counts it: an object past `maxDepth` returns `TOO_DEEP`.
 */
export function encodeBounded(value: unknown, depth: number, maxDepth: number): string | undefined | typeof TOO_DEEP {
  try {
    return encodeFast(value, depth, maxDepth);
  } catch (error) {
    if (error !== NEEDS_CARE) throw error;
  }
  if (nestsDeeperThan(value, depth, maxDepth)) return TOO_DEEP;
  return encode(value, [], []);
}

/** What `encodeBounded` answers for a value that nests deeper than allowed. */
export const TOO_DEEP: unique symbol = Symbol('nests too deep');

function encodeFast(value: unknown, depth: number, maxDepth: number): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw NEEDS_CARE;
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return undefined;
    case 'object':
      break;
    default:
      throw NEEDS_CARE;
  }
  if (value === null) return 'null';
  if (depth > maxDepth) throw NEEDS_CARE;
  if (Array.isArray(value)) {
    let out = '[';
    for (let index = 0; index < value.length; index += 1) {
      out += `${index > 0 ? ',' : ''}${encodeFast(value[index], depth + 1, maxDepth) ?? 'null'}`;
    }
    return `${out}]`;
  }
  const prototype = Object.getPrototypeOf(value) as unknown;
  if ((prototype !== Object.prototype && prototype !== null) || typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    throw NEEDS_CARE;
  }
  const names = Object.keys(value);
  if (!inOrder(names)) names.sort();
  let out = '{';
  let first = true;
  for (const key of names) {
    const member = encodeFast((value as Record<string, unknown>)[key], depth + 1, maxDepth);
    if (member === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${member}`;
    first = false;
  }
  return `${out}}`;
}


/** Whether an object inside `value` sits deeper than `maxDepth`, counting `value` itself at `depth` (iterative: a cycle cannot overflow the stack). */
function nestsDeeperThan(value: unknown, depth: number, maxDepth: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth }];
  while (stack.length > 0) {
    const { value: current, depth: at } = stack.pop() as { value: unknown; depth: number };
    if (typeof current !== 'object' || current === null) continue;
    if (at > maxDepth) return true;
    for (const child of Object.values(current)) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: at + 1 });
    }
  }
  return false;
}
