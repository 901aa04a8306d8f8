export * from './prompts';
export * from './ollama-engine';
export * from './model-output';
