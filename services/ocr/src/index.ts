export * from './task';
export * from './prompt';
export * from './ocr-engines';
export * from './ocr-structure';
export * from './pii';
