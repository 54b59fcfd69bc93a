export * from './content-addressed-store';
