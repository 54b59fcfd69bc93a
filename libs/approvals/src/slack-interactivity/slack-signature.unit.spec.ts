import { createHmac } from 'node:crypto';
import { slackSignature, verifySlackRequest } from './slack-signature';

// Slack's documented example (api.slack.com/authentication/verifying-requests-from-slack).
const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TIMESTAMP = '1531420618';
const BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const AT = new Date(Number(TIMESTAMP) * 1000);

describe("Slack's v0 request signature", () => {
  it("matches Slack's documented example", () => {
    expect(slackSignature(SECRET, TIMESTAMP, BODY)).toBe(SIGNATURE);
    expect(verifySlackRequest(SECRET, { timestamp: TIMESTAMP, signature: SIGNATURE }, Buffer.from(BODY), AT)).toEqual({ ok: true });
  });

  it('refuses a signature by another secret, over another body, or over another timestamp', () => {
    const forged = `v0=${createHmac('sha256', 'not-the-secret').update(`v0:${TIMESTAMP}:${BODY}`).digest('hex')}`;
    expect(verifySlackRequest(SECRET, { timestamp: TIMESTAMP, signature: forged }, BODY, AT)).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
    expect(verifySlackRequest(SECRET, { timestamp: TIMESTAMP, signature: SIGNATURE }, `${BODY}&x=1`, AT)).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
    expect(verifySlackRequest(SECRET, { timestamp: '1531420619', signature: SIGNATURE }, BODY, AT)).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
    expect(verifySlackRequest(SECRET, { timestamp: TIMESTAMP, signature: 'v0=' }, BODY, AT)).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
  });

  it('refuses a request more than five minutes old or ahead, even correctly signed', () => {
    const later = (seconds: number) => new Date(AT.getTime() + seconds * 1000);
    expect(verifySlackRequest(SECRET, { timestamp: TIMESTAMP, signature: SIGNATURE }, BODY, later(300))).toEqual({ ok: true });
    expect(verifySlackRequest(SECRET, { timestamp: TIMESTAMP, signature: SIGNATURE }, BODY, later(301))).toEqual({ ok: false, reason: 'TIMESTAMP_OUT_OF_RANGE' });
    expect(verifySlackRequest(SECRET, { timestamp: TIMESTAMP, signature: SIGNATURE }, BODY, later(-301))).toEqual({ ok: false, reason: 'TIMESTAMP_OUT_OF_RANGE' });
  });

  it('refuses missing headers and a timestamp that is not a number', () => {
    expect(verifySlackRequest(SECRET, { timestamp: undefined, signature: SIGNATURE }, BODY, AT)).toEqual({ ok: false, reason: 'MISSING_HEADERS' });
    expect(verifySlackRequest(SECRET, { timestamp: '1e9', signature: SIGNATURE }, BODY, AT)).toEqual({ ok: false, reason: 'BAD_TIMESTAMP' });
  });
});
