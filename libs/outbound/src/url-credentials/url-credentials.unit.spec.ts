import { findUrlCredentials } from './url-credentials';

describe('findUrlCredentials', () => {
  it.each([
    ['https://user:pass@models.example.com/m.onnx', /user info/],
    ['https://token@models.example.com/m.onnx', /user info/],
    ['https://bucket.s3.amazonaws.com/m.onnx?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F&X-Amz-Signature=abc', /X-Amz-Credential, X-Amz-Signature/],
    ['https://storage.googleapis.com/b/m.onnx?X-Goog-Signature=abc', /X-Goog-Signature/],
    ['https://acct.blob.core.windows.net/c/m.onnx?sv=2022-11-02&se=2030-01-01&sp=r&sig=abc%3D', /sig/],
    ['https://d111.cloudfront.net/m.onnx?Expires=1&Signature=abc&Key-Pair-Id=K', /Signature, Key-Pair-Id/],
    ['https://gitlab.example.com/api/v4/projects/1/packages/m.onnx?private_token=glpat', /private_token/],
    ['https://models.example.com/m.onnx?access_token=abc', /access_token/],
    ['https://models.example.com/m.onnx?TOKEN=abc', /TOKEN/],
    ['https://models.example.com/m.onnx?api_key=abc', /api_key/],
    ['https://u:p@models.example.com/m.onnx?apikey=abc', /user info .* and the query parameter apikey/],
  ])('finds the credential in %s', (url, what) => {
    expect(findUrlCredentials(new URL(url))).toMatch(what);
  });

  it.each([
    'https://models.example.com/churn/model.onnx',
    'https://models.example.com/m.onnx?version=3&format=onnx',
    'https://huggingface.co/org/model/resolve/main/model.onnx?download=true',
    'http://127.0.0.1:8080/model.onnx',
  ])('finds none in %s', (url) => {
    expect(findUrlCredentials(new URL(url))).toBeUndefined();
  });
});
