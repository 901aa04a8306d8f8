import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Tf from '@tensorflow/tfjs';
import { ArgusError } from '@argus/contracts';
import { assertRgbPixels, type RgbPixels } from './nsfw-classifier';
import { tfjsOnWasm, tfjsWasmFolder } from './tfjs-wasm';

/** A face in the pixels of the image the caller names (the source), with the two scores that let it through. */
export interface DetectedFace {
  box: { x: number; y: number; width: number; height: number };
  /** BlazeFace's detection score, 0–1. */
  boxScore: number;
  /** The face mesh's confidence that the crop is a face, 0–1. */
  meshScore: number;
}

/**
 * human's own cut on the BlazeFace score: candidates under it never reach the mesh, so a lower minBoxScore has no
 * effect. Low enough to measure thresholds with, high enough that few candidates cost a mesh run.
 */
const DETECTOR_FLOOR = 0.3;

/** What a face must score on both stages to count. */
export interface FaceThresholds {
  minBoxScore: number;
  minMeshScore: number;
}

/**
 * Measured on 265 real photos without people (tools, food, fish, animals, buildings, landscapes) and 27 with people
 * (docs/product-analysis.md): pliers, a baseball, a panda, two spoonbills and the Eiffel tower reach box scores of
 * 0.51–0.64 with mesh scores of 0.95–1.0, so the box score must reach 0.65; the mesh score removes what BlazeFace
 * alone believes (16 of the 265 photos reach box 0.65 without it; horses at 0.70 score mesh 0.00).
 */
export const DEFAULT_FACE_THRESHOLDS: FaceThresholds = { minBoxScore: 0.65, minMeshScore: 0.9 };

/** Long side of the pixels the detector is given: the mesh crops faces from them, so more than BlazeFace's 256. */
export const FACE_INPUT_LONG_SIDE = 640;

/** More faces than this in a product photo is a crowd; the count is capped there. */
export const MAX_FACES = 20;

/** One face as human reports it, in input pixels: the detector's box, its mesh points, and both scores. */
export interface RawFace {
  /** The detector's box, enlarged by human's crop margin (about 1.4×) for the mesh. */
  box: readonly [number, number, number, number];
  /** The face mesh's 468 landmarks (x, y, z); empty when the mesh did not run. */
  mesh?: ReadonlyArray<readonly number[]>;
  boxScore: number;
  faceScore: number;
}

/** The tight box of the mesh landmarks (forehead to chin, ear to ear), or the detector's box without a mesh. */
function faceBox(face: RawFace): [number, number, number, number] {
  const points = face.mesh ?? [];
  if (points.length === 0) return [...face.box];
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of points) {
    minX = Math.min(minX, x);
    minY = Math.min(minY, y);
    maxX = Math.max(maxX, x);
    maxY = Math.max(maxY, y);
  }
  return [minX, minY, maxX - minX, maxY - minY];
}

/**
 * The faces that pass both thresholds, with boxes scaled from the detector's input to the source image (which may
 * have been scaled differently along each axis) and clamped to it; strongest first.
 */
export function acceptedFaces(
  raw: readonly RawFace[],
  input: { width: number; height: number },
  source: { width: number; height: number },
  thresholds: FaceThresholds = DEFAULT_FACE_THRESHOLDS,
): DetectedFace[] {
  const scaleX = source.width / input.width;
  const scaleY = source.height / input.height;
  const faces: DetectedFace[] = [];
  for (const face of raw) {
    if (face.boxScore < thresholds.minBoxScore || face.faceScore < thresholds.minMeshScore) continue;
    const [x, y, width, height] = faceBox(face);
    const x0 = clamp(Math.round(x * scaleX), source.width);
    const y0 = clamp(Math.round(y * scaleY), source.height);
    const x1 = clamp(Math.round((x + width) * scaleX), source.width);
    const y1 = clamp(Math.round((y + height) * scaleY), source.height);
    if (x1 <= x0 || y1 <= y0) continue;
    faces.push({
      box: { x: x0, y: y0, width: x1 - x0, height: y1 - y0 },
      boxScore: round(face.boxScore),
      meshScore: round(face.faceScore),
    });
  }
  return faces.sort((a, b) => b.boxScore * b.meshScore - a.boxScore * a.meshScore);
}

function clamp(value: number, max: number): number {
  return Math.min(max, Math.max(0, value));
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** The part of @vladmandic/human's Human class this adapter uses. */
interface Human {
  load(): Promise<void>;
  detect(input: Tf.Tensor3D): Promise<{ face: RawFace[]; error?: string | null }>;
  models: { models: Record<string, unknown> };
}
type HumanConstructor = new (config: Record<string, unknown>) => Human;

function isHumanModule(value: unknown): value is { Human: HumanConstructor } {
  return (
    typeof value === 'object' && value !== null && typeof (value as { Human?: unknown }).Human === 'function'
  );
}

/** human's dist folder; its package exports map does not expose the node-wasm build, so it is found by path. */
function humanDist(): string {
  return path.dirname(require.resolve('@vladmandic/human'));
}

/** file:// URL of the models folder inside the package, with a trailing slash. */
export function humanModelsUrl(): string {
  return pathToFileURL(path.join(humanDist(), '..', 'models') + path.sep).href;
}

let modelRouter: string | undefined;

/**
 * tfjs-core without tfjs-node has no loader for file:// URLs: it falls back to fetch(), which Node cannot do for
 * files. This router reads the model JSON and its weight files from the package's models folder, and answers only
 * for that folder, so nothing else tfjs loads changes.
 */
function registerModelFolder(tf: typeof Tf, modelsUrl: string): void {
  if (modelRouter === modelsUrl) return;
  modelRouter = modelsUrl;
  const router = (url: string | string[]): Tf.io.IOHandler | null => {
    if (typeof url !== 'string' || !url.startsWith(modelsUrl)) return null;
    const file = fileURLToPath(url);
    return {
      load: async () =>
        tf.io.getModelArtifactsForJSON(
          JSON.parse(await readFile(file, 'utf8')) as Tf.io.ModelJSON,
          async (manifest) => {
            const shards = await Promise.all(
              manifest.flatMap((group) =>
                group.paths.map((shard) => readFile(path.join(path.dirname(file), shard))),
              ),
            );
            const weights = Buffer.concat(shards);
            return [
              manifest.flatMap((group) => group.weights),
              weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
            ];
          },
        ),
    };
  };
  // tfjs's own routers return null for a URL they do not handle, and tfjs skips them; its IORouter type omits that.
  tf.io.registerLoadRouter(router as Parameters<typeof tf.io.registerLoadRouter>[0]);
}

/**
 * Face detector + face mesh only. Every other model human ships stays off, and so do its frame caches (a video
 * feature that would hand one image's faces to the next) and its warm-up (which decodes a sample image).
 */
function humanConfig(modelsUrl: string): Record<string, unknown> {
  const off = { enabled: false };
  return {
    backend: 'wasm',
    wasmPath: tfjsWasmFolder(),
    modelBasePath: modelsUrl,
    cacheModels: false,
    debug: false,
    warmup: 'none',
    cacheSensitivity: 0,
    skipAllowed: false,
    filter: off,
    face: {
      enabled: true,
      detector: {
        rotation: false,
        maxDetected: MAX_FACES,
        minConfidence: DETECTOR_FLOOR,
        skipFrames: 0,
        skipTime: 0,
        return: false,
      },
      // Faces the mesh does not confirm are kept so their mesh score can be compared with ours.
      mesh: { enabled: true, keepInvalid: true },
      attention: off,
      iris: off,
      emotion: off,
      description: off,
      antispoof: off,
      liveness: off,
      gear: off,
    },
    body: off,
    hand: off,
    object: off,
    gesture: off,
    segmentation: off,
  };
}

interface Loaded {
  tf: typeof Tf;
  human: Human;
}

/**
 * human keeps each loaded model in a module-level variable of its bundle, for the life of the process: a second
 * Human reuses them, and disposing them breaks every later load. So the process has one Human, loaded on first use,
 * and its detections run one after the other (human keeps per-call state).
 */
let shared: Promise<Loaded> | undefined;
let queue: Promise<unknown> = Promise.resolve();

function sharedHuman(): Promise<Loaded> {
  shared ??= loadHuman().catch((error: unknown) => {
    shared = undefined;
    throw error;
  });
  return shared;
}

/** A detection takes about 50 ms; human swallows some internal errors and never settles, so a call is cut here. */
export const DETECT_TIMEOUT_MS = 10_000;

/**
 * Faces in a photo: BlazeFace and the face mesh from @vladmandic/human (MIT; Google's models, Apache-2.0), on the
 * process's tfjs wasm backend, offline (the weights ship in the package), about 40–60 ms per image on one core.
 * A face counts when both the detector and the mesh are sure of it; faces narrower than about 6% of the image's
 * long side are missed.
 */
export class FaceDetector {
  private loading?: Promise<Loaded>;
  private loaded = false;

  constructor(private readonly thresholds: FaceThresholds = DEFAULT_FACE_THRESHOLDS) {}

  get ready(): boolean {
    return this.loaded;
  }

  /** Loads the models once per process; concurrent and repeated calls share the same load. */
  async warm(): Promise<void> {
    await this.load();
  }

  /**
   * The faces in packed RGB pixels, boxes in the pixels of `source` (the image the pixels were scaled from;
   * by default the pixels themselves).
   */
  async detect(rgb: RgbPixels, source: { width: number; height: number } = rgb): Promise<DetectedFace[]> {
    const { data, width, height } = assertRgbPixels(rgb);
    const { tf, human } = await this.load();
    const run = queue.then(async () => {
      const input = tf.tensor3d(data, [height, width, 3], 'int32');
      let timer: NodeJS.Timeout | undefined;
      try {
        const result = await Promise.race([
          human.detect(input),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              reject(new ArgusError('INFERENCE_TIMEOUT', `face detection took over ${DETECT_TIMEOUT_MS} ms`));
            }, DETECT_TIMEOUT_MS);
          }),
        ]);
        if (result.error) throw new Error(result.error);
        return acceptedFaces(result.face, rgb, source, this.thresholds);
      } finally {
        clearTimeout(timer);
        input.dispose();
      }
    });
    queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Stops this detector; a later warm() or detect() picks the models up again. The models themselves stay loaded
   * for the process (about 2 MB of weights): human caches them per process and cannot load them twice.
   */
  close(): Promise<void> {
    this.loading = undefined;
    this.loaded = false;
    return Promise.resolve();
  }

  private load(): Promise<Loaded> {
    if (this.loading) return this.loading;
    const loading: Promise<Loaded> = sharedHuman().then(
      (loaded) => {
        if (this.loading === loading) this.loaded = true;
        return loaded;
      },
      (error: unknown) => {
        if (this.loading === loading) this.loading = undefined;
        const reason = error instanceof Error ? error.message : String(error);
        throw new ArgusError('MODEL_UNAVAILABLE', `BlazeFace (human) could not be loaded: ${reason}`);
      },
    );
    this.loading = loading;
    return loading;
  }
}

async function loadHuman(): Promise<Loaded> {
  const tf = await tfjsOnWasm();
  const modelsUrl = humanModelsUrl();
  registerModelFolder(tf, modelsUrl);
  // The node-wasm build requires @tensorflow/tfjs-core, -converter and -backend-wasm from the project's
  // node_modules: the same modules nsfwjs runs on, so both share one backend and one wasm heap.
  const loaded: unknown = createRequire(__filename)(path.join(humanDist(), 'human.node-wasm.js'));
  if (!isHumanModule(loaded)) throw new Error('human.node-wasm.js does not export Human');
  const human = new loaded.Human(humanConfig(modelsUrl));
  await human.load();
  const missing = ['blazeface', 'facemesh'].filter((name) => !human.models.models[name]);
  if (missing.length > 0) throw new Error(`models not loaded: ${missing.join(', ')}`);
  // One detection on a blank image sets up the kernels, so the first real image does not pay for it.
  const blank = tf.zeros<Tf.Rank.R3>([FACE_INPUT_LONG_SIDE, FACE_INPUT_LONG_SIDE, 3], 'int32');
  try {
    await human.detect(blank);
  } finally {
    blank.dispose();
  }
  return { tf, human };
}
