// The floor of Argus's shape (issue 18): the same 640×480 uploads through the least pipeline of the same shape that
// can be written with the same libraries (fastify + @fastify/multipart, sha256, sharp, nats.js, one HTTP call to
// the same Ollama stand-in), measured in the same bench run as Argus. Argus adds validation, telemetry, a stored
// image, admission control and caching on top; the floor has none of them, so what Argus costs above it is the price
// of those, and what the floor costs above the bare sharp work is the price of the shape itself (an HTTP hop, a NATS
// hop, an HTTP call) that no implementation of this architecture avoids.
//
// Two shapes:
// - `worker-resize`, Argus's today: the gateway proves the upload whole with a 1/8-scale decode and sends the upload;
//   the worker makes the model's input.
// - `gateway-resize`: the gateway makes the model's input from its one decode and sends it inline as base64; the
//   worker only calls Ollama.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { multipartBody } from '../../test/support/fixtures';
import { freePort, startNats } from '../../test/support/nats-harness';
import { cpuMsPer, cpuSeconds, percentile, ROOT, round, time } from '../bench-support';
import { floorEnv, type FloorShape } from './floor-settings';

export { FLOOR_SHAPES, type FloorShape } from './floor-settings';

export interface FloorOptions {
  shape: FloorShape;
  ollamaUrl: string;
  model: string;
  modelSize: { width: number; height: number };
  /** Sent first and not counted, so every process's JIT is warm. */
  warmup: Buffer[];
  /** One request each, one at a time; CPU is read around these. */
  measured: Buffer[];
  /** Cache hits and `GET /healthz` round trips to time, one at a time; 0 skips the hit reading. */
  hits?: number;
}

export interface FloorReading {
  shape: FloorShape;
  /** CPU ms per request: gateway, worker, nats-server (undefined when NATS runs in a container). */
  byProcess: { gateway: number; worker: number; nats?: number };
  totalCpuMs: number;
  /** p50 ms of a repeat answered from one KV read, and of `GET /healthz`, same floor gateway. */
  hitP50Ms?: number;
  healthzP50Ms?: number;
}

const HERE = join(ROOT, 'bench', 'floor');
/** tsx's loader by path, so the child is the measured process itself (tsx's CLI would run the file in a grandchild). */
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const READY_TIMEOUT_MS = 30_000;

function startChild(file: string, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = fork(join(HERE, file), {
      env: { ...process.env, ...env },
      execArgv: ['--import', TSX_LOADER],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} was not ready within ${READY_TIMEOUT_MS} ms`));
    }, READY_TIMEOUT_MS);
    child.once('message', () => {
      clearTimeout(timer);
      resolve(child);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited with ${code} before it was ready`));
    });
  });
}

export async function measurePipelineFloor(options: FloorOptions): Promise<FloorReading> {
  const nats = await startNats();
  const port = await freePort();
  const env = floorEnv({
    natsUrl: nats.url,
    port,
    shape: options.shape,
    // Only the size: a caller may pass a whole encoded image, which has one.
    modelSize: { width: options.modelSize.width, height: options.modelSize.height },
    ollamaUrl: options.ollamaUrl,
    model: options.model,
  });

  const children: ChildProcess[] = [];
  try {
    const gateway = await startChild('floor-gateway.ts', env);
    children.push(gateway);
    const worker = await startChild('floor-worker.ts', env);
    children.push(worker);
    const base = `http://127.0.0.1:${port}`;
    const post = async (path: string, photo: Buffer) => {
      const response = await fetch(`${base}${path}`, { method: 'POST', body: multipartBody(photo) });
      const body = (await response.json()) as { results?: { moderation?: { status?: string } } };
      if (!response.ok || body.results?.moderation?.status !== 'ok')
        throw new Error(`floor ${path} answered ${response.status}: ${JSON.stringify(body).slice(0, 200)}`);
    };
    for (const photo of options.warmup) await post('/analyze', photo);

    const pids = { gateway: gateway.pid, worker: worker.pid, nats: nats.pid };
    // nats-server in a container has no pid here: its CPU is left out rather than read as 0.
    const read = () => {
      const seconds: Record<string, number> = {};
      for (const [name, pid] of Object.entries(pids)) {
        const used = cpuSeconds(pid);
        if (used !== undefined) seconds[name] = used;
      }
      return seconds;
    };
    const before = read();
    for (const photo of options.measured) await post('/analyze', photo);
    const perRequest: Partial<Record<string, number>> = cpuMsPer(read(), before, options.measured.length);
    const byProcess = {
      gateway: perRequest.gateway ?? 0,
      worker: perRequest.worker ?? 0,
      nats: perRequest.nats,
    };
    const reading: FloorReading = {
      shape: options.shape,
      byProcess,
      totalCpuMs: round(byProcess.gateway + byProcess.worker + (byProcess.nats ?? 0), 1),
    };
    const hits = options.hits ?? 0;
    if (hits > 0) {
      const repeated = options.measured[0];
      await time(20, () => post('/hit', repeated));
      const hitTimes = await time(hits, () => post('/hit', repeated));
      const healthTimes = await time(hits, async () => {
        const response = await fetch(`${base}/healthz`);
        await response.arrayBuffer();
      });
      reading.hitP50Ms = round(percentile(hitTimes, 50), 2);
      reading.healthzP50Ms = round(percentile(healthTimes, 50), 2);
    }
    return reading;
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await nats.stop();
  }
}
