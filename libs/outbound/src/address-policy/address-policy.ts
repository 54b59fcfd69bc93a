import ipaddr from 'ipaddr.js';

type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

/** The setting that lets the operator reach addresses the policy refuses by default. */
export const ALLOWED_HOSTS_SETTING = 'MRW_OUTBOUND_ALLOWED_HOSTS';

/**
 * Where an address is. Only `public` is called without the operator's leave; every other range
 * is someone's inside (this host, its network, the cloud's metadata service) or not routable.
 */
export type AddressRange =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'linkLocal'
  | 'private'
  | 'carrierGradeNat'
  | 'uniqueLocal'
  | 'multicast'
  | 'broadcast'
  | 'reserved';

const V4_RANGES: Readonly<Record<string, AddressRange>> = {
  unicast: 'public',
  unspecified: 'unspecified',
  loopback: 'loopback',
  linkLocal: 'linkLocal',
  private: 'private',
  carrierGradeNat: 'carrierGradeNat',
  multicast: 'multicast',
  broadcast: 'broadcast',
};

const V6_RANGES: Readonly<Record<string, AddressRange>> = {
  unspecified: 'unspecified',
  loopback: 'loopback',
  linkLocal: 'linkLocal',
  uniqueLocal: 'uniqueLocal',
  multicast: 'multicast',
};

// Global unicast is 2000::/3; anything else that ipaddr.js calls unicast (site-local fec0::/10,
// IPv4-compatible ::a.b.c.d, unassigned space) is not somewhere the suite should go.
const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3');

const v4From = (high: number, low: number): ipaddr.IPv4 => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);

/** The IPv4 address an IPv6 address carries and is delivered to (mapped, translated, NAT64, 6to4). */
const embeddedV4 = (address: ipaddr.IPv6): ipaddr.IPv4 | undefined => {
  const p = address.parts;
  switch (address.range()) {
    case 'ipv4Mapped':
    case 'rfc6145':
    case 'rfc6052':
      return v4From(p[6] ?? 0, p[7] ?? 0);
    case '6to4':
      return v4From(p[1] ?? 0, p[2] ?? 0);
    default:
      return undefined;
  }
};

const rangeOf = (address: IpAddress): AddressRange => {
  if (address.kind() === 'ipv4') return V4_RANGES[address.range()] ?? 'reserved';
  const v6 = address as ipaddr.IPv6;
  const inner = embeddedV4(v6);
  if (inner) return rangeOf(inner);
  const range = v6.range();
  if (range === 'unicast') return v6.match(GLOBAL_UNICAST) ? 'public' : 'reserved';
  return V6_RANGES[range] ?? 'reserved';
};

const parseIp = (text: string): IpAddress | undefined => {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  // Only the canonical textual forms: `0x7f.1` and `2130706433` are for URL parsers, not allow-lists.
  if (ipaddr.IPv4.isValidFourPartDecimal(bare)) return ipaddr.IPv4.parse(bare);
  if (ipaddr.IPv6.isValid(bare)) return ipaddr.IPv6.parse(bare);
  return undefined;
};

/** The range an IP address (as text, IPv6 with or without brackets) is in; throws on a non-address. */
export const classifyAddress = (address: string): AddressRange => {
  const parsed = parseIp(address);
  if (!parsed) throw new TypeError(`${address} is not an IP address`);
  return rangeOf(parsed);
};

/** One entry of the operator's allow-list. */
export type AllowEntry =
  | { readonly kind: 'host'; readonly host: string }
  | { readonly kind: 'hostPort'; readonly host: string; readonly port: number }
  | { readonly kind: 'addressPort'; readonly address: string; readonly port: number }
  | { readonly kind: 'cidr'; readonly cidr: string };

export type AllowList = readonly AllowEntry[];

/** An allow-list entry that is none of the accepted forms. */
export class AllowListError extends Error {
  override readonly name = 'AllowListError';
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

const normalHost = (host: string): string => host.toLowerCase().replace(/\.$/, '');

const isHostname = (text: string): boolean =>
  // A last label of digits is an address in some other notation (`2130706433`, `127.1`), not a name.
  HOSTNAME.test(text) && !/(^|\.)(\d+|0x[0-9a-f]*)$/.test(text);

const parsePort = (text: string, entry: string, setting: string): number => {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new AllowListError(`${setting}: "${entry}" has no valid port (1-65535) after the colon`);
  return port;
};

const canonical = (address: IpAddress): string =>
  address.kind() === 'ipv6' ? (address as ipaddr.IPv6).toRFC5952String() : address.toString();

const parseEntry = (raw: string, setting: string): AllowEntry => {
  const entry = normalHost(raw);
  if (entry.includes('://')) throw new AllowListError(`${setting}: "${raw}" is a URL; give its host or host:port instead (e.g. models.internal:8443)`);
  if (/^[0-9a-f:.]+\/\d*$/.test(entry)) {
    if (!ipaddr.isValidCIDR(entry)) throw new AllowListError(`${setting}: "${raw}" is not a CIDR range (e.g. 10.0.0.0/8 or fd00::/8)`);
    const [address, bits] = ipaddr.parseCIDR(entry);
    return { kind: 'cidr', cidr: `${canonical(address)}/${bits}` };
  }
  const address = parseIp(entry);
  if (address) return { kind: 'cidr', cidr: `${canonical(address)}/${address.kind() === 'ipv4' ? 32 : 128}` };
  const bracketed = /^\[([^\]]+)\]:(.*)$/.exec(entry);
  if (bracketed) {
    const v6 = parseIp(bracketed[1] ?? '');
    if (!v6) throw new AllowListError(`${setting}: "${raw}" does not have an IPv6 address between the brackets`);
    return { kind: 'addressPort', address: canonical(v6), port: parsePort(bracketed[2] ?? '', raw, setting) };
  }
  const colon = entry.lastIndexOf(':');
  if (colon > 0 && !entry.slice(0, colon).includes(':')) {
    const host = entry.slice(0, colon);
    const ip = parseIp(host);
    if (ip) return { kind: 'addressPort', address: canonical(ip), port: parsePort(entry.slice(colon + 1), raw, setting) };
    if (isHostname(host)) return { kind: 'hostPort', host, port: parsePort(entry.slice(colon + 1), raw, setting) };
  } else if (isHostname(entry)) {
    return { kind: 'host', host: entry };
  }
  throw new AllowListError(
    `${setting}: "${raw}" is not a hostname, host:port, IP address or CIDR (e.g. models.internal, models.internal:8443, 10.0.0.5, [fd00::5]:443, 10.0.0.0/8)`,
  );
};

/**
 * Parses the operator's comma-separated allow-list; throws AllowListError naming the first
 * entry that is not a hostname, `host:port`, IP address, `[ipv6]:port` or CIDR.
 */
export const parseAllowedHosts = (text: string | undefined, setting = ALLOWED_HOSTS_SETTING): AllowList =>
  (text ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => parseEntry(entry, setting));

/** Why a connection would not be made. */
export interface AddressRefusal {
  readonly host: string;
  readonly port: number;
  readonly address: string;
  readonly range: AddressRange;
  readonly setting: string;
  readonly message: string;
}

/** Where the suite may connect on a user's behalf: public addresses, plus what the operator allows. */
export class AddressPolicy {
  private readonly ranges: ReadonlyArray<[IpAddress, number]>;

  constructor(
    readonly allowed: AllowList = [],
    private readonly setting = ALLOWED_HOSTS_SETTING,
  ) {
    this.ranges = allowed.flatMap((e) => (e.kind === 'cidr' ? [ipaddr.parseCIDR(e.cidr)] : []));
  }

  /** A policy from the setting's text; throws AllowListError on a bad entry. */
  static fromSetting(text: string | undefined, setting = ALLOWED_HOSTS_SETTING): AddressPolicy {
    return new AddressPolicy(parseAllowedHosts(text, setting), setting);
  }

  /**
   * Why connecting to `address` to reach `host:port` is refused, or undefined when it is allowed.
   * `host` is the URL's host (a name, or the address itself); `address` is where it resolved.
   */
  check(host: string, port: number, address: string): AddressRefusal | undefined {
    const parsed = parseIp(address);
    if (!parsed) throw new TypeError(`${address} is not an IP address`);
    // An IPv4-mapped address is the IPv4 one on the wire, so it is matched as such.
    const ip = parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress() ? (parsed as ipaddr.IPv6).toIPv4Address() : parsed;
    const range = rangeOf(ip);
    if (range === 'public') return undefined;
    const name = normalHost(host.replace(/^\[(.*)\]$/, '$1'));
    const text = canonical(ip);
    const allowed = this.allowed.some((entry) => {
      switch (entry.kind) {
        case 'host':
          return entry.host === name;
        case 'hostPort':
          return entry.host === name && entry.port === port;
        case 'addressPort':
          return entry.address === text && entry.port === port;
        case 'cidr':
          return false;
      }
    });
    if (allowed || this.ranges.some(([base, bits]) => base.kind() === ip.kind() && ip.match(base, bits))) return undefined;
    return {
      host: name,
      port,
      address: text,
      range,
      setting: this.setting,
      message:
        `refusing to connect to ${text} (${range}) for ${name}:${port}: ` +
        `add the host, host:port or a CIDR covering the address to ${this.setting} to allow it`,
    };
  }
}
