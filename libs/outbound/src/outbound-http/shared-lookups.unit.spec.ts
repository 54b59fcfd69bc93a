import { sharedLookups, type ResolvedAddress } from './shared-lookups';

/** A resolver whose lookups the test answers, one by one, recording what was asked. */
const scriptedResolver = () => {
  const asked: string[] = [];
  const pending: Array<{ resolve: (a: readonly ResolvedAddress[]) => void; reject: (e: Error) => void }> = [];
  const resolve = (hostname: string) =>
    new Promise<readonly ResolvedAddress[]>((ok, fail) => {
      asked.push(hostname);
      pending.push({ resolve: ok, reject: fail });
    });
  return { resolve, asked, pending };
};

const addresses = (address: string): readonly ResolvedAddress[] => [{ address, family: 4 }];

describe('sharedLookups', () => {
  let clock: number;
  const now = () => clock;

  beforeEach(() => {
    clock = 1_000;
  });

  it('asks once for a name looked up by many at once (its case aside), and answers them all', async () => {
    const system = scriptedResolver();
    const lookup = sharedLookups(system.resolve, { keepMs: 5_000, maxHosts: 10, now });
    const answers = Promise.all([lookup('models.example.com'), lookup('MODELS.example.com'), lookup('models.example.com')]);
    expect(system.asked).toEqual(['models.example.com']);
    system.pending[0]?.resolve(addresses('203.0.113.7'));
    expect(await answers).toEqual([addresses('203.0.113.7'), addresses('203.0.113.7'), addresses('203.0.113.7')]);
  });

  it('keeps an answer for keepMs after it came, then asks again', async () => {
    const system = scriptedResolver();
    const lookup = sharedLookups(system.resolve, { keepMs: 5_000, maxHosts: 10, now });
    const first = lookup('models.example.com');
    clock += 60_000; // a slow lookup: the time counts from its answer, not from the question
    system.pending[0]?.resolve(addresses('203.0.113.7'));
    await first;
    clock += 4_999;
    expect(await lookup('models.example.com')).toEqual(addresses('203.0.113.7'));
    expect(system.asked).toHaveLength(1);
    clock += 1;
    const again = lookup('models.example.com');
    expect(system.asked).toHaveLength(2);
    system.pending[1]?.resolve(addresses('203.0.113.8'));
    expect(await again).toEqual(addresses('203.0.113.8'));
  });

  it('shares a failure the same way: every caller hears it, and the name is not asked again until keepMs has passed', async () => {
    const system = scriptedResolver();
    const lookup = sharedLookups(system.resolve, { keepMs: 5_000, maxHosts: 10, now });
    const failing = [lookup('nowhere.example'), lookup('nowhere.example')];
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.example'), { code: 'ENOTFOUND' });
    system.pending[0]?.reject(notFound);
    for (const call of failing) await expect(call).rejects.toBe(notFound);
    await expect(lookup('nowhere.example')).rejects.toBe(notFound);
    expect(system.asked).toEqual(['nowhere.example']);
    clock += 5_000;
    void lookup('nowhere.example').catch(() => undefined);
    expect(system.asked).toEqual(['nowhere.example', 'nowhere.example']);
  });

  it('looks each name up on its own, and forgets the oldest name past maxHosts', async () => {
    const system = scriptedResolver();
    const lookup = sharedLookups(system.resolve, { keepMs: 5_000, maxHosts: 2, now });
    const answered = ['a.example', 'b.example', 'c.example'].map((name) => lookup(name));
    expect(system.asked).toEqual(['a.example', 'b.example', 'c.example']);
    system.pending.forEach((p, i) => p.resolve(addresses(`203.0.113.${i + 1}`)));
    expect(await Promise.all(answered)).toEqual([addresses('203.0.113.1'), addresses('203.0.113.2'), addresses('203.0.113.3')]);
    void lookup('c.example');
    void lookup('b.example');
    expect(system.asked).toHaveLength(3);
    void lookup('a.example').catch(() => undefined);
    expect(system.asked).toEqual(['a.example', 'b.example', 'c.example', 'a.example']);
  });
});
