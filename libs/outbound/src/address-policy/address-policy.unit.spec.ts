import { AddressPolicy, AllowListError, classifyAddress, parseAllowedHosts } from './address-policy';

describe('classifyAddress', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['93.184.216.34', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['169.254.169.254', 'linkLocal'],
    ['169.254.0.1', 'linkLocal'],
    ['fe80::1', 'linkLocal'],
    ['febf:ffff::1', 'linkLocal'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['100.127.255.255', 'carrierGradeNat'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['fec0::1', 'reserved'],
    ['::7f00:1', 'reserved'],
    ['2001::1', 'reserved'],
  ])('%s is %s', (address, range) => {
    expect(classifyAddress(address)).toBe(range);
  });

  it('sees through IPv6 forms that deliver to an IPv4 address', () => {
    expect(classifyAddress('::ffff:127.0.0.1')).toBe('loopback');
    expect(classifyAddress('::ffff:7f00:1')).toBe('loopback');
    expect(classifyAddress('[::ffff:169.254.169.254]')).toBe('linkLocal');
    expect(classifyAddress('::ffff:10.1.2.3')).toBe('private');
    expect(classifyAddress('::ffff:0:192.168.0.1')).toBe('private');
    expect(classifyAddress('64:ff9b::a9fe:a9fe')).toBe('linkLocal');
    expect(classifyAddress('2002:7f00:1::')).toBe('loopback');
    expect(classifyAddress('::ffff:8.8.8.8')).toBe('public');
    expect(classifyAddress('2002:808:808::1')).toBe('public');
  });

  it('throws on something that is not an address', () => {
    expect(() => classifyAddress('localhost')).toThrow(TypeError);
    expect(() => classifyAddress('2130706433')).toThrow(TypeError);
  });
});

describe('parseAllowedHosts', () => {
  it('reads hostnames, host:port pairs, addresses and CIDRs, ignoring blanks and case', () => {
    expect(parseAllowedHosts(' Models.Internal. , models.internal:8443,127.0.0.1, 10.0.0.0/8 ,,fd00::/8, ::1, [::1]:8080, 127.0.0.1:9000 ')).toEqual([
      { kind: 'host', host: 'models.internal' },
      { kind: 'hostPort', host: 'models.internal', port: 8443 },
      { kind: 'cidr', cidr: '127.0.0.1/32' },
      { kind: 'cidr', cidr: '10.0.0.0/8' },
      { kind: 'cidr', cidr: 'fd00::/8' },
      { kind: 'cidr', cidr: '::1/128' },
      { kind: 'addressPort', address: '::1', port: 8080 },
      { kind: 'addressPort', address: '127.0.0.1', port: 9000 },
    ]);
    expect(parseAllowedHosts(undefined)).toEqual([]);
    expect(parseAllowedHosts('')).toEqual([]);
  });

  it.each([
    ['not a host', /"not a host" is not a hostname, host:port, IP address or CIDR/],
    ['10.0.0.0/33', /"10.0.0.0\/33" is not a CIDR range/],
    ['models.internal:0', /"models.internal:0" has no valid port/],
    ['models.internal:99999', /no valid port/],
    ['models.internal:', /no valid port/],
    ['[not-v6]:80', /IPv6 address between the brackets/],
    ['2130706433', /is not a hostname/],
    ['127.1', /is not a hostname/],
    ['http://models.internal', /is a URL; give its host or host:port instead/],
    ['*.internal', /is not a hostname/],
  ])('refuses %j with a message naming the setting and the entry', (entry, message) => {
    expect(() => parseAllowedHosts(`models.internal,${entry}`)).toThrow(AllowListError);
    expect(() => parseAllowedHosts(entry)).toThrow(message);
    expect(() => parseAllowedHosts(entry)).toThrow(/^MRW_OUTBOUND_ALLOWED_HOSTS: /);
  });
});

describe('AddressPolicy', () => {
  const none = new AddressPolicy();

  it('allows public addresses without any setting', () => {
    expect(none.check('models.example.com', 443, '93.184.216.34')).toBeUndefined();
    expect(none.check('models.example.com', 443, '2606:4700:4700::1111')).toBeUndefined();
  });

  it.each(['127.0.0.1', '::1', '0.0.0.0', '::', '169.254.169.254', 'fe80::1', '10.1.2.3', '172.20.0.1', '192.168.0.10', '100.64.1.1', 'fd00::1', '224.0.0.1', '::ffff:127.0.0.1', '::ffff:169.254.169.254'])(
    'refuses %s, naming the address, its range and the setting that allows it',
    (address) => {
      const refusal = none.check('models.example.com', 80, address);
      expect(refusal).toMatchObject({ address: expect.any(String), range: expect.not.stringMatching(/^public$/), setting: 'MRW_OUTBOUND_ALLOWED_HOSTS' });
      expect(refusal?.message).toContain('MRW_OUTBOUND_ALLOWED_HOSTS');
      expect(refusal?.message).toContain(refusal?.address);
    },
  );

  it('names a mapped address by the IPv4 address it reaches', () => {
    expect(none.check('evil.example', 80, '::ffff:169.254.169.254')).toMatchObject({ address: '169.254.169.254', range: 'linkLocal' });
  });

  it('allows a refused address by hostname, on any port', () => {
    const policy = AddressPolicy.fromSetting('models.internal');
    expect(policy.check('models.internal', 8080, '10.0.0.5')).toBeUndefined();
    expect(policy.check('MODELS.INTERNAL.', 443, '10.0.0.5')).toBeUndefined();
    expect(policy.check('other.internal', 8080, '10.0.0.5')).toBeDefined();
  });

  it('allows a refused address by host:port only on that port', () => {
    const policy = AddressPolicy.fromSetting('localhost:8080, 127.0.0.1:9000, [::1]:9001');
    expect(policy.check('localhost', 8080, '127.0.0.1')).toBeUndefined();
    expect(policy.check('localhost', 8081, '127.0.0.1')).toBeDefined();
    expect(policy.check('127.0.0.1', 9000, '127.0.0.1')).toBeUndefined();
    expect(policy.check('anything', 9000, '127.0.0.1')).toBeUndefined();
    expect(policy.check('127.0.0.1', 9001, '127.0.0.1')).toBeDefined();
    expect(policy.check('[::1]', 9001, '::1')).toBeUndefined();
    expect(policy.check('[::1]', 9000, '::1')).toBeDefined();
  });

  it('allows a refused address by CIDR or single address, whatever the name', () => {
    const policy = AddressPolicy.fromSetting('10.0.0.0/8, 192.168.1.7, fd00::/8');
    expect(policy.check('a.internal', 80, '10.200.0.1')).toBeUndefined();
    expect(policy.check('a.internal', 80, '::ffff:10.200.0.1')).toBeUndefined();
    expect(policy.check('a.internal', 80, '192.168.1.7')).toBeUndefined();
    expect(policy.check('a.internal', 80, '192.168.1.8')).toBeDefined();
    expect(policy.check('a.internal', 80, 'fd00::1')).toBeUndefined();
    expect(policy.check('a.internal', 80, 'fc00::1')).toBeDefined();
    expect(policy.check('a.internal', 80, '127.0.0.1')).toBeDefined();
  });

  it('does not let a hostname entry allow a different host that resolves to the same place', () => {
    const policy = AddressPolicy.fromSetting('models.internal');
    expect(policy.check('metadata.google.internal', 80, '169.254.169.254')).toMatchObject({ host: 'metadata.google.internal' });
  });
});
