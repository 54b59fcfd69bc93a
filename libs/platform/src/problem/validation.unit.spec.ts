import 'reflect-metadata';
import { IsEmail, IsIn, IsOptional, IsString } from 'class-validator';
import { createValidationPipe } from './validation';
import { ProblemException } from './problem';

class OptionalQuery {
  @IsOptional()
  @IsIn(['None', 'Staging'])
  stage?: string;
}

class RequiredBody {
  @IsString()
  name!: string;
}

describe('the global validation pipe on empty input', () => {
  const pipe = createValidationPipe();

  it('answers an instance of the DTO for `{}` when every field is optional, as often as asked', async () => {
    for (let i = 0; i < 3; i += 1) {
      const query = await pipe.transform({}, { type: 'query', metatype: OptionalQuery, data: '' });
      expect(query).toBeInstanceOf(OptionalQuery);
      expect({ ...(query as object) }).toEqual({});
    }
  });

  it('still refuses `{}` where a field is required, every time (the verdict on `{}` is kept, not a pass)', async () => {
    for (let i = 0; i < 2; i += 1) {
      const refused = await pipe.transform({}, { type: 'body', metatype: RequiredBody, data: '' }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ProblemException);
      expect((refused as ProblemException).extensions?.['errors']).toEqual([expect.objectContaining({ field: 'name' })]);
    }
  });

  it('validates a non-empty input in full after an empty one passed', async () => {
    await pipe.transform({}, { type: 'query', metatype: OptionalQuery, data: '' });
    const refused = await pipe.transform({ stage: 'Nowhere' }, { type: 'query', metatype: OptionalQuery, data: '' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ProblemException);
    const unknown = await pipe.transform({ extra: '1' }, { type: 'query', metatype: OptionalQuery, data: '' }).catch((error: unknown) => error);
    expect((unknown as ProblemException).extensions?.['errors']).toEqual([{ field: 'extra', message: 'unknown field' }]);
  });

  it('leaves a custom decorator’s value alone, empty or not', async () => {
    const principal = {};
    expect(await pipe.transform(principal, { type: 'custom', metatype: OptionalQuery, data: '' })).toBe(principal);
  });
});

class Person {
  @IsOptional()
  @IsEmail()
  email?: string;

  @IsOptional()
  tags?: Record<string, string>;
}

describe('the global validation pipe on text that is not well-formed Unicode', () => {
  const pipe = createValidationPipe();
  const refusal = (value: unknown, type: 'body' | 'query' | 'param', data = ''): Promise<unknown> =>
    pipe.transform(value, { type, metatype: type === 'param' ? String : Person, data }).then(
      () => undefined,
      (error: unknown) => error,
    );

  it('refuses a lone surrogate with a 400 naming the field (IsEmail would throw a URIError on it: a 500)', async () => {
    const refused = await refusal({ email: '\udfff' }, 'body');
    expect(refused).toBeInstanceOf(ProblemException);
    expect((refused as ProblemException).status).toBe(400);
    expect((refused as ProblemException).extensions?.['errors']).toEqual([{ field: 'email', message: expect.stringContaining('well-formed Unicode') }]);
  });

  it('looks into nested values and keys, queries and path parameters', async () => {
    expect(((await refusal({ tags: { team: 'a\ud800b' } }, 'body')) as ProblemException).extensions?.['errors']).toEqual([
      { field: 'tags.team', message: expect.any(String) },
    ]);
    expect(((await refusal({ tags: { ['\udc00']: 'x' } }, 'body')) as ProblemException).extensions?.['errors']).toEqual([
      { field: 'tags.\udc00', message: expect.any(String) },
    ]);
    expect(await refusal({ email: '\ud800' }, 'query')).toBeInstanceOf(ProblemException);
    expect(((await refusal('x\udbff', 'param', 'subject')) as ProblemException).extensions?.['errors']).toEqual([
      { field: 'subject', message: expect.any(String) },
    ]);
  });

  it('accepts a surrogate pair, which is one well-formed character', async () => {
    expect(await refusal({ email: 'a@example.org', tags: { emoji: '\ud83d\ude80 𝕏' } }, 'body')).toBeUndefined();
  });
});
