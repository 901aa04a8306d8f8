import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import { TestEnvironment } from 'jest-environment-node';

/**
 * Jest runs each spec in its own realm, with its own typed-array constructors; onnxruntime-node's native binding
 * returns arrays of the main realm, which onnxruntime-common's `instanceof Float32Array` check then rejects. Specs
 * that run the real models use this environment, which shares the main realm's typed arrays.
 */
export default class OnnxTestEnvironment extends TestEnvironment {
  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    const shared = { Float32Array, Float64Array, Int8Array, Int32Array, BigInt64Array, Uint8Array };
    Object.assign(this.global, shared);
  }
}
