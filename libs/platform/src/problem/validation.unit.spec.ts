import 'reflect-metadata';
import { IsIn, IsOptional, IsString } from 'class-validator';
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
