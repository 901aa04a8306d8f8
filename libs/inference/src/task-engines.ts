export * from './engines/engine-kit';
export * from './engines/cpu-ocr';
export * from './engines/moderation-engines';
export * from './engines/tagging-engines';
export * from './engines/ocr-engines';
