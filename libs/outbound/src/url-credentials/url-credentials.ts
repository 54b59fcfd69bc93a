// Query parameters that carry a credential or a signature standing in for one: S3 and GCS signed
// URLs, Azure SAS, CloudFront, OAuth and the usual API-key spellings. Compared lower-cased.
const CREDENTIAL_PARAMETERS = new Set([
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
  'awsaccesskeyid',
  'x-goog-signature',
  'x-goog-credential',
  'googleaccessid',
  'signature',
  'sig',
  'key-pair-id',
  'access_token',
  'id_token',
  'refresh_token',
  'token',
  'auth',
  'authorization',
  'api_key',
  'apikey',
  'api-key',
  'private_token',
  'client_secret',
  'secret',
  'password',
  'passwd',
]);

/**
 * What in a URL is a credential (`user info`, or the names of credential query parameters), or
 * undefined when it has none. Such URLs must not be stored: the log is immutable and readable.
 */
export const findUrlCredentials = (url: URL): string | undefined => {
  const found: string[] = [];
  if (url.username !== '' || url.password !== '') found.push('user info (user:password@)');
  const names = [...new Set([...url.searchParams.keys()])].filter((name) => CREDENTIAL_PARAMETERS.has(name.toLowerCase()));
  if (names.length > 0) found.push(`the query parameter${names.length > 1 ? 's' : ''} ${names.join(', ')}`);
  return found.length > 0 ? found.join(' and ') : undefined;
};
