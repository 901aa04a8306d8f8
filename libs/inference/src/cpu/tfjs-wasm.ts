import path from 'node:path';
import type * as Tf from '@tensorflow/tfjs';

let runtime: Promise<typeof Tf> | undefined;

/**
 * tfjs is loaded on first use rather than imported: requiring it costs about 250 ms and 30 MB, which the processes
 * that import this library but never run a tfjs model should not pay. Its backend is global to the process, so it is
 * chosen once for every model (nsfwjs, the face detector). The wasm binaries ship in the package; pointing tfjs at
 * them keeps it from fetching them.
 */
export function tfjsOnWasm(): Promise<typeof Tf> {
  runtime ??= (async () => {
    const [tf, wasm] = await Promise.all([
      import('@tensorflow/tfjs'),
      import('@tensorflow/tfjs-backend-wasm'),
    ]);
    wasm.setWasmPaths(tfjsWasmFolder());
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs could not start its wasm backend');
    await tf.ready();
    return tf;
  })().catch((error: unknown) => {
    runtime = undefined;
    throw error;
  });
  return runtime;
}

/** The folder of the wasm binaries inside @tensorflow/tfjs-backend-wasm, with a trailing separator. */
export function tfjsWasmFolder(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}
