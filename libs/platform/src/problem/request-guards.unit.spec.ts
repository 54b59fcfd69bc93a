import { ProblemException } from './problem';
import { assertSafeJson } from './request-guards';

const refusal = (value: unknown): ProblemException | undefined => {
  try {
    assertSafeJson(value);
    return undefined;
  } catch (error) {
    return error as ProblemException;
  }
};

describe('parsed JSON that is not well-formed Unicode', () => {
  it('refuses a lone surrogate with a 400 naming the field (IsEmail would throw a URIError on it: a 500)', () => {
    const refused = refusal({ email: '\udfff', slackUserId: 'WZ2NY' });
    expect(refused).toBeInstanceOf(ProblemException);
    expect(refused?.status).toBe(400);
    expect(refused?.code).toBe('VALIDATION_FAILED');
    expect(refused?.extensions['errors']).toEqual([{ field: 'email', message: expect.stringContaining('well-formed Unicode') }]);
  });

  it('looks into nested values, list items and keys', () => {
    expect(refusal({ tags: { team: 'a\ud800b' } })?.extensions['errors']).toEqual([{ field: 'tags.team', message: expect.any(String) }]);
    expect(refusal({ list: ['ok', '\udbff'] })?.extensions['errors']).toEqual([{ field: 'list.1', message: expect.any(String) }]);
    expect(refusal({ tags: { ['\udc00']: 'x' } })?.extensions['errors']).toEqual([{ field: 'tags.\udc00', message: expect.any(String) }]);
  });

  it('accepts a surrogate pair, which is one well-formed character', () => {
    expect(refusal({ email: 'a@example.org', tags: { emoji: '\ud83d\ude80 𝕏' } })).toBeUndefined();
  });
});
