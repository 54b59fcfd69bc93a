export * from './content-addressed-store';
export * from './fetch-artifact';
export * from './file-sources';
