export * from './task';
export * from './prompt';
export * from './tagging-engines';
export * from './listing-compliance';
export * from './listing-consistency';
export * from './product-text';
