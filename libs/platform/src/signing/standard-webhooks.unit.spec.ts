import { signWebhook, verifyWebhook } from './standard-webhooks';

// The reference vector of the Standard Webhooks libraries (standard-webhooks/standard-webhooks).
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const AT = new Date(1614265330 * 1000);
const BODY = '{"test": 2432232314}';

describe('Standard Webhooks signing', () => {
  it('signs the reference vector as the reference libraries do', () => {
    expect(signWebhook(SECRET, ID, AT, BODY)).toEqual({
      'webhook-id': ID,
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    });
  });

  it('keys a plain (non-whsec_) secret by its UTF-8 bytes', () => {
    const plain = signWebhook('a plain shared secret', ID, AT, BODY);
    expect(plain['webhook-signature']).not.toBe(signWebhook(SECRET, ID, AT, BODY)['webhook-signature']);
    expect(verifyWebhook('a plain shared secret', plain, BODY, AT)).toEqual({ ok: true, id: ID, timestamp: AT });
  });

  it('verifies what it signed, with header names in any case and among other signatures', () => {
    const headers = signWebhook(SECRET, ID, AT, BODY);
    const mixed = {
      'Webhook-Id': headers['webhook-id'],
      'WEBHOOK-TIMESTAMP': headers['webhook-timestamp'],
      'webhook-signature': `v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,xyz ${headers['webhook-signature']}`,
    };
    expect(verifyWebhook(SECRET, mixed, Buffer.from(BODY), new Date(AT.getTime() + 60_000))).toMatchObject({ ok: true, id: ID });
  });

  it.each([
    ['a changed body', (h: Record<string, string>) => h, '{"test": 2432232315}', 'BAD_SIGNATURE'],
    ['another id', (h: Record<string, string>) => ({ ...h, 'webhook-id': 'msg_other' }), BODY, 'BAD_SIGNATURE'],
    ['a truncated signature', (h: Record<string, string>) => ({ ...h, 'webhook-signature': h['webhook-signature']!.slice(0, 8) }), BODY, 'BAD_SIGNATURE'],
    ['no signature', (h: Record<string, string>) => ({ ...h, 'webhook-signature': '' }), BODY, 'MISSING_HEADERS'],
    ['a timestamp that is not a number', (h: Record<string, string>) => ({ ...h, 'webhook-timestamp': 'hello' }), BODY, 'BAD_TIMESTAMP'],
  ])('refuses %s', (_, change, body, reason) => {
    const headers = change({ ...signWebhook(SECRET, ID, AT, BODY) });
    expect(verifyWebhook(SECRET, headers, body, AT)).toEqual({ ok: false, reason });
  });

  it('refuses another secret', () => {
    expect(verifyWebhook('whsec_b3RoZXIgc2VjcmV0', signWebhook(SECRET, ID, AT, BODY), BODY, AT)).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
  });

  it('refuses a timestamp more than five minutes from now, either way', () => {
    const headers = signWebhook(SECRET, ID, AT, BODY);
    expect(verifyWebhook(SECRET, headers, BODY, new Date(AT.getTime() + 301_000))).toEqual({ ok: false, reason: 'TIMESTAMP_OUT_OF_RANGE' });
    expect(verifyWebhook(SECRET, headers, BODY, new Date(AT.getTime() - 301_000))).toEqual({ ok: false, reason: 'TIMESTAMP_OUT_OF_RANGE' });
    expect(verifyWebhook(SECRET, headers, BODY, new Date(AT.getTime() + 299_000)).ok).toBe(true);
  });

  it('refuses an id that cannot travel in a header', () => {
    expect(() => signWebhook(SECRET, 'msg 1\r\nx-injected: 1', AT, BODY)).toThrow(/whitespace/);
  });
});
