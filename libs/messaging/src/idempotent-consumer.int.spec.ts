import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Inbox } from './idempotent-consumer';

describe('Inbox', () => {
  let dir: string;
  let file: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mrw-inbox-'));
    file = join(dir, 'inbox.sqlite');
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('runs an effect once per message id and consumer, and again for another consumer', async () => {
    const inbox = new Inbox(file);
    const effects: string[] = [];
    const effect = (name: string) => async () => void effects.push(name);
    expect(await inbox.once('g1', 'm-1', 'T', effect('first'))).toBe('handled');
    // Before the records are written (one turn of the event loop later), the duplicate is still seen.
    expect(await inbox.once('g1', 'm-1', 'T', effect('again'))).toBe('duplicate');
    expect(await inbox.once('g2', 'm-1', 'T', effect('other group'))).toBe('handled');
    expect(effects).toEqual(['first', 'other group']);
    inbox.close();
  });

  it('keeps what was handled across a reopen, written in one batch per turn', async () => {
    const inbox = new Inbox(file);
    await Promise.all(Array.from({ length: 50 }, (_, i) => inbox.once('g', `m-${i}`, i % 2 ? 'Odd' : 'Even', async () => undefined)));
    expect(inbox.counts('g')).toEqual({ Even: 25, Odd: 25 });
    inbox.close();
    const reopened = new Inbox(file);
    expect(reopened.has('g', 'm-49')).toBe(true);
    expect(await reopened.once('g', 'm-0', 'Even', async () => { throw new Error('must not run'); })).toBe('duplicate');
    reopened.close();
  });

  it('records nothing when the effect fails, so the message is handled on redelivery', async () => {
    const inbox = new Inbox(file);
    await expect(inbox.once('g', 'm-1', 'T', async () => { throw new Error('transient'); })).rejects.toThrow('transient');
    expect(inbox.has('g', 'm-1')).toBe(false);
    expect(await inbox.once('g', 'm-1', 'T', async () => undefined)).toBe('handled');
    inbox.close();
  });
});
