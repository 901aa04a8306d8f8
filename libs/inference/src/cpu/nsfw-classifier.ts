import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Tf from '@tensorflow/tfjs';
import type { NSFWJS } from 'nsfwjs';
import { ArgusError } from '@argus/contracts';
import { tfjsOnWasm } from './tfjs-wasm';

/** nsfwjs' five class probabilities, 0–1, summing to 1. */
export interface NsfwScores {
  drawing: number;
  hentai: number;
  neutral: number;
  porn: number;
  sexy: number;
}

/** Packed 8-bit RGB, three bytes per pixel (what ImageProcessor.toRawRgb returns). */
export interface RgbPixels {
  data: Uint8Array;
  width: number;
  height: number;
}

/** The pixels, once their size is positive and their data holds exactly three bytes a pixel; a RangeError otherwise. */
export function assertRgbPixels(rgb: RgbPixels): RgbPixels {
  const { data, width, height } = rgb;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`image size must be positive integers, got ${width}×${height}`);
  }
  if (data.length !== width * height * 3) {
    throw new RangeError(
      `expected ${width * height * 3} bytes of RGB for ${width}×${height}, got ${data.length}`,
    );
  }
  return rgb;
}

/** MobileNetV2's training input; other sizes work but nsfwjs resizes them on the tfjs side. */
export const NSFW_INPUT_SIZE = 224;

const CLASS_KEYS: Record<string, keyof NsfwScores> = {
  Drawing: 'drawing',
  Hentai: 'hentai',
  Neutral: 'neutral',
  Porn: 'porn',
  Sexy: 'sexy',
};

interface Runtime {
  tf: typeof Tf;
  Nsfwjs: typeof NSFWJS;
}

/** The process's tfjs on wasm (shared with the face detector) and nsfwjs on top of it. */
async function nsfwjsOnWasm(): Promise<Runtime> {
  const [tf, nsfwjs] = await Promise.all([tfjsOnWasm(), import('nsfwjs')]);
  return { tf, Nsfwjs: nsfwjs.NSFWJS };
}

interface ModelJson {
  modelTopology: object;
  weightsManifest: Array<{ paths: string[]; weights: Tf.io.WeightsManifestEntry[] }>;
}

function isModelJson(value: unknown): value is ModelJson {
  if (typeof value !== 'object' || value === null) return false;
  const { modelTopology, weightsManifest } = value as Partial<ModelJson>;
  return (
    typeof modelTopology === 'object' &&
    Array.isArray(weightsManifest) &&
    weightsManifest.every((group) => Array.isArray(group.paths) && Array.isArray(group.weights))
  );
}

/**
 * Reads the MobileNetV2 files nsfwjs bundles (a topology module and base64 weight modules) and hands them to tfjs
 * from memory. nsfwjs.load('MobileNetV2') reads the same files but imports the 3.5 MB weight string through a
 * TypeScript `__importStar` helper that copies every character of it into an object property, which takes 8–12 s;
 * this takes under a second and produces the same model.
 */
function bundledMobileNetV2(tf: typeof Tf): Tf.io.IOHandler {
  const folder = path.join(path.dirname(require.resolve('nsfwjs')), '..', 'models', 'mobilenet_v2');
  const load = createRequire(__filename);
  const modelJson: unknown = load(path.join(folder, 'model.min.js'));
  if (!isModelJson(modelJson)) throw new Error(`unexpected model file in ${folder}`);
  const weights = modelJson.weightsManifest.flatMap((group) =>
    group.paths.map((shard) => {
      const base64: unknown = load(path.join(folder, `${shard}.min.js`));
      if (typeof base64 !== 'string') throw new Error(`unexpected weight file ${shard} in ${folder}`);
      return Buffer.from(base64, 'base64');
    }),
  );
  const weightData = Buffer.concat(weights);
  return tf.io.fromMemory({
    modelTopology: modelJson.modelTopology,
    weightSpecs: modelJson.weightsManifest.flatMap((group) => group.weights),
    weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
  });
}

interface Loaded {
  tf: typeof Tf;
  model: NSFWJS;
}

/**
 * The embedded sexual-content classifier: nsfwjs MobileNetV2 on the tfjs wasm backend, offline, ~80 ms per image.
 * It only knows Drawing, Hentai, Neutral, Porn and Sexy; everything else moderation cares about needs a vision model.
 */
export class NsfwClassifier {
  private loading?: Promise<Loaded>;
  private model?: NSFWJS;

  get ready(): boolean {
    return this.model !== undefined;
  }

  /** Loads the model once; concurrent and repeated calls share the same load. */
  async warm(): Promise<void> {
    await this.load();
  }

  async classify(rgb: RgbPixels): Promise<NsfwScores> {
    const { data, width, height } = assertRgbPixels(rgb);
    const { tf, model } = await this.load();
    const input = tf.tensor3d(data, [height, width, 3], 'int32');
    try {
      const predictions = await model.classify(input, Object.keys(CLASS_KEYS).length);
      const scores: NsfwScores = { drawing: 0, hentai: 0, neutral: 0, porn: 0, sexy: 0 };
      for (const { className, probability } of predictions) {
        const key = CLASS_KEYS[className] as keyof NsfwScores | undefined;
        if (key) scores[key] = probability;
      }
      return scores;
    } finally {
      input.dispose();
    }
  }

  /** Frees the model's tensors; a later warm() or classify() loads it again. */
  async close(): Promise<void> {
    const loading = this.loading;
    this.loading = undefined;
    this.model = undefined;
    const loaded = await loading?.catch(() => undefined);
    loaded?.model.dispose();
  }

  private load(): Promise<Loaded> {
    if (this.loading) return this.loading;
    // A close() during the load detaches it: the model it yields is then disposed, never published as ready.
    const loading: Promise<Loaded> = loadModel().then(
      (loaded) => {
        if (this.loading === loading) this.model = loaded.model;
        return loaded;
      },
      (error: unknown) => {
        if (this.loading === loading) this.loading = undefined;
        const reason = error instanceof Error ? error.message : String(error);
        throw new ArgusError('MODEL_UNAVAILABLE', `nsfwjs MobileNetV2 could not be loaded: ${reason}`);
      },
    );
    this.loading = loading;
    return loading;
  }
}

async function loadModel(): Promise<Loaded> {
  const { tf, Nsfwjs } = await nsfwjsOnWasm();
  const model = new Nsfwjs(bundledMobileNetV2(tf), { size: NSFW_INPUT_SIZE });
  // load() also runs one prediction on zeros, so the first real image does not pay for kernel set-up.
  await model.load();
  return { tf, model };
}
