import { Worker } from 'node:worker_threads';
import { ArgusError } from '@argus/contracts';

/** A float tensor as it crosses the thread boundary: its values and its shape. */
export interface ModelTensor {
  data: Float32Array;
  dims: readonly number[];
}

/** onnxruntime-node's session options, as far as Argus sets them. */
export interface OnnxSessionOptions {
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  executionMode?: 'sequential' | 'parallel';
  enableCpuMemArena?: boolean;
}

type ThreadReply =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; data: Float32Array; dims: number[] }
  | { type: 'error'; id: number; message: string };

/*
 * The thread's whole program. It is evaluated from a string, so the same code runs from the TypeScript sources under
 * jest and from dist/ without a second file to ship. It loads onnxruntime-node (by the path the caller resolved), one
 * session per model, and answers one run per message; outputs are copied into buffers it can transfer.
 */
const THREAD_PROGRAM = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.runtime);
const sessions = new Map();
const ready = (async () => {
  for (const [name, file] of Object.entries(workerData.models)) {
    sessions.set(name, await ort.InferenceSession.create(file, workerData.options));
  }
})();
ready.then(
  () => parentPort.postMessage({ type: 'ready' }),
  (error) => parentPort.postMessage({ type: 'failed', message: String((error && error.message) || error) }),
);
parentPort.on('message', async (message) => {
  try {
    await ready;
    const session = sessions.get(message.model);
    const outputs = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', message.data, message.dims) });
    const output = outputs[session.outputNames[0]];
    const data = new Float32Array(output.data);
    parentPort.postMessage({ type: 'result', id: message.id, data, dims: Array.from(output.dims) }, [data.buffer]);
  } catch (error) {
    parentPort.postMessage({ type: 'error', id: message.id, message: String((error && error.message) || error) });
  }
});
`;

interface Pending {
  resolve: (tensor: ModelTensor) => void;
  reject: (error: Error) => void;
}

/**
 * ONNX models run by onnxruntime-node in a worker thread. Its `run()` computes on the thread that calls it (a 960²
 * detection held the event loop 650 ms on this machine, far longer on a loaded one), which would stall everything
 * else a worker does meanwhile: its NATS heartbeats, probes and metrics. Here the event loop only hands tensors over.
 * Runs are answered in the order they were sent.
 */
export class OnnxModels<Name extends string> {
  private readonly pending = new Map<number, Pending>();
  private sequence = 0;
  private failure?: Error;

  private constructor(private readonly thread: Worker) {
    thread.on('message', (reply: ThreadReply) => {
      if (reply.type !== 'result' && reply.type !== 'error') return;
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (reply.type === 'result') waiting.resolve({ data: reply.data, dims: reply.dims });
      else waiting.reject(new ArgusError('INTERNAL', `onnxruntime: ${reply.message}`));
    });
    thread.on('error', (error) => {
      this.fail(new ArgusError('MODEL_UNAVAILABLE', `the onnxruntime thread failed: ${error.message}`));
    });
    thread.on('exit', (code) => {
      this.fail(new ArgusError('MODEL_UNAVAILABLE', `the onnxruntime thread exited (code ${code})`));
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiting of this.pending.values()) waiting.reject(this.failure);
    this.pending.clear();
  }

  /** Starts the thread and loads every model; rejects with MODEL_UNAVAILABLE when one cannot be loaded. */
  static async load<Name extends string>(
    models: Readonly<Record<Name, string>>,
    options: OnnxSessionOptions,
  ): Promise<OnnxModels<Name>> {
    let runtime: string;
    try {
      runtime = require.resolve('onnxruntime-node');
    } catch (error) {
      throw new ArgusError(
        'MODEL_UNAVAILABLE',
        `onnxruntime-node is not installed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const thread = new Worker(THREAD_PROGRAM, { eval: true, workerData: { runtime, models, options } });
    // A worker process that is done must be able to exit with the thread idle; close() ends it explicitly.
    thread.unref();
    await new Promise<void>((resolve, reject) => {
      const onMessage = (reply: ThreadReply) => {
        if (reply.type === 'ready') {
          cleanup();
          resolve();
        } else if (reply.type === 'failed') {
          cleanup();
          reject(new ArgusError('MODEL_UNAVAILABLE', reply.message));
        }
      };
      const onExit = (code: number) => {
        cleanup();
        reject(
          new ArgusError('MODEL_UNAVAILABLE', `the onnxruntime thread exited (code ${code}) while loading`),
        );
      };
      const onError = (error: Error) => {
        cleanup();
        reject(new ArgusError('MODEL_UNAVAILABLE', `the onnxruntime thread failed: ${error.message}`));
      };
      const cleanup = () => {
        thread.off('message', onMessage);
        thread.off('exit', onExit);
        thread.off('error', onError);
      };
      thread.on('message', onMessage);
      thread.once('exit', onExit);
      thread.once('error', onError);
    }).catch(async (error: unknown) => {
      await thread.terminate();
      throw error;
    });
    return new OnnxModels<Name>(thread);
  }

  /** False once the thread has died; the owner should load the models again. */
  get alive(): boolean {
    return this.failure === undefined;
  }

  /** One inference of `model` on a float32 input; the input's buffer is handed to the thread (do not reuse it). */
  run(model: Name, input: ModelTensor): Promise<ModelTensor> {
    if (this.failure) return Promise.reject(this.failure);
    const id = (this.sequence += 1);
    return new Promise<ModelTensor>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const { buffer } = input.data;
      const transfer = buffer instanceof ArrayBuffer ? [buffer] : [];
      this.thread.postMessage({ id, model, data: input.data, dims: [...input.dims] }, transfer);
    });
  }

  async close(): Promise<void> {
    this.fail(new ArgusError('MODEL_UNAVAILABLE', 'the onnxruntime models were closed'));
    await this.thread.terminate();
  }
}
