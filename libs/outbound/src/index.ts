export * from './address-policy/address-policy';
export * from './outbound-error';
export * from './outbound-http/outbound-http';
export * from './url-credentials/url-credentials';
