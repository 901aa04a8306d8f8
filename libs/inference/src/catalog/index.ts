export * from './model-catalog.schema';
export * from './vram-estimate';
export * from './model-catalog';
export * from './model-family';
