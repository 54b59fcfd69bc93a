import { ProblemException } from '@mrw/platform';
import { parseManifest } from './evaluation-set-manifest.dto';

const problemOf = (raw: string | undefined): ProblemException => {
  try {
    parseManifest(raw);
  } catch (error) {
    if (error instanceof ProblemException) return error;
    throw error;
  }
  throw new Error('expected the manifest to be refused');
};

describe('the manifest of an evaluation-set upload', () => {
  it('accepts a well-formed manifest', () => {
    expect(parseManifest('{"task": "binary", "label": "y", "slices": ["segment"]}')).toEqual({ task: 'binary', label: 'y', slices: ['segment'] });
  });

  it('takes null for an optional field as absent', () => {
    expect(parseManifest('{"task": "binary", "label": "y", "features": null, "slices": null, "costMatrix": null}')).toEqual({ task: 'binary', label: 'y' });
  });

  it.each([['null'], ['5'], ['"binary"'], ['[]'], ['true']])('refuses %s as "not an object", naming the manifest field', (raw) => {
    const problem = problemOf(raw);
    expect(problem.status).toBe(422);
    expect(problem.code).toBe('INVALID_MANIFEST');
    expect(problem.extensions['errors']).toEqual([{ field: 'manifest', message: 'must be a JSON object' }]);
  });

  it('refuses prototype keys and names them', () => {
    const problem = problemOf('{"task": "binary", "label": "y", "__proto__": {"x": 1}}');
    expect([problem.status, problem.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(problem.extensions['errors']).toEqual([{ field: 'manifest.__proto__', message: expect.any(String) }]);
  });

  it('refuses a manifest nested thousands of levels deep without overflowing the stack', () => {
    const problem = problemOf(`{"task": "binary", "label": "y", "costMatrix": ${'['.repeat(5_000)}${']'.repeat(5_000)}}`);
    expect([problem.status, problem.code]).toEqual([400, 'NESTING_TOO_DEEP']);
  });

  it.each([['{}'], ['"x"'], ['7'], ['[[1, "a"], [0, 1]]'], ['[1, 2]']])('refuses a costMatrix of %s as a manifest problem', (matrix) => {
    const problem = problemOf(`{"task": "binary", "label": "y", "costMatrix": ${matrix}}`);
    expect([problem.status, problem.code]).toEqual([422, 'INVALID_MANIFEST']);
    expect(problem.extensions['errors']).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'manifest.costMatrix' })]));
  });

  it('refuses a missing or unreadable manifest and unknown fields', () => {
    expect(problemOf(undefined).code).toBe('INVALID_MANIFEST');
    expect(problemOf('{task').code).toBe('INVALID_MANIFEST');
    expect(problemOf('{"task": "binary", "label": "y", "owner": "me"}').extensions['errors']).toEqual([
      { field: 'manifest.owner', message: expect.stringContaining('should not exist') },
    ]);
  });
});
