export * from './envelope';
export * from './stream-names';
export * from './lifecycle';
export * from './events';
export * from './ids';
export * from './messaging';
export * from './kserve-settings';
export * from './duration';
