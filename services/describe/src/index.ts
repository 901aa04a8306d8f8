export * from './engines';
export * from './prompt';
export * from './task';
