export * from './env';
export * from './service-config';
export * from './listing-profiles';
