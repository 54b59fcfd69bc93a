import { isPrivateStream, modelOfStream, modelStream, modelVersionStream, parseModelVersionStream, streamCategory } from './stream-names';

describe('stream names', () => {
  it('parses a model version stream back into its model and version', () => {
    expect(parseModelVersionStream(modelVersionStream('churn.v2-b_1', 12))).toEqual({ model: 'churn.v2-b_1', version: 12 });
    // The version is what follows the last `@`.
    expect(parseModelVersionStream('modelVersion-a@b@3')).toEqual({ model: 'a@b', version: 3 });
  });

  it('answers undefined for every other stream', () => {
    for (const stream of ['model-churn', 'modelVersion-churn', 'modelVersion-churn@0', 'modelVersion-churn@01', 'modelVersion-@1', 'modelVersion-churn@1x', 'xmodelVersion-churn@1', '']) {
      expect(parseModelVersionStream(stream)).toBeUndefined();
    }
  });

  it('answers each stream for itself when the same streams are parsed in turn (the last answer is kept)', () => {
    const seen = ['modelVersion-a@1', 'modelVersion-a@1', 'model-a', 'modelVersion-a@1', 'modelVersion-b@2', 'modelVersion-b@2', 'modelVersion-a@1'].map(
      parseModelVersionStream,
    );
    expect(seen).toEqual([
      { model: 'a', version: 1 },
      { model: 'a', version: 1 },
      undefined,
      { model: 'a', version: 1 },
      { model: 'b', version: 2 },
      { model: 'b', version: 2 },
      { model: 'a', version: 1 },
    ]);
    // The same stream twice in a row gets the answer kept, the same object; it is shared, so nobody may change it.
    expect(parseModelVersionStream('modelVersion-a@1')).toBe(parseModelVersionStream('modelVersion-a@1'));
    const id = parseModelVersionStream('modelVersion-a@1') as { model: string };
    expect(() => {
      id.model = 'b';
    }).toThrow(TypeError);
    expect(parseModelVersionStream('modelVersion-a@1')).toEqual({ model: 'a', version: 1 });
  });

  it('names the model a model\'s or a model version\'s stream is about, and none for any other stream', () => {
    expect(modelOfStream(modelStream('churn-v2'))).toBe('churn-v2');
    expect(modelOfStream(modelVersionStream('churn-v2', 3))).toBe('churn-v2');
    for (const stream of ['accessToken-x', 'modelVersion-churn', 'models-x', 'webhookNotice-model-x']) expect(modelOfStream(stream)).toBeUndefined();
  });

  it('names a stream by its category and keeps private categories private', () => {
    expect(streamCategory('modelVersion-a@1')).toBe('modelVersion');
    expect(streamCategory('plain')).toBe('plain');
    expect(isPrivateStream('tokenCredential-x')).toBe(true);
    expect(isPrivateStream('model-x')).toBe(false);
  });
});
