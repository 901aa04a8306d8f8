export * from './task';
export * from './prompt';
export * from './moderation-engines';
export * from './moderation-policy';
