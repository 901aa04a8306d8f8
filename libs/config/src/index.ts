export * from './env';
export * from './service-config';
export * from './listing-profiles';
export * from './yaml-config';
export * from './moderation-policies';
export * from './product-categories';
export * from './api-keys';
