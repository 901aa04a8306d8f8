// What every task's engines are built from; the engines themselves live in their task's folder
// (services/<task>/src/<task>-engines.ts).
export * from './engines/engine-kit';
export * from './engines/cpu-ocr';
export * from './engines/cpu-people';
