/**
 * What Ollama's image processor for each vision-model family does to an image, ported from Ollama's Go source so that
 * Argus sends exactly the pixels the model will use: Ollama then has nothing left to resize, and the image's share of
 * the context is known before the call. Pure arithmetic (no sharp), so the catalog checks and the benchmarks use the
 * same figures as resizeForModel.
 *
 * Sources, read in github.com/ollama/ollama (its current sources, which Argus's 0.12.x facts match; re-check them when
 * upgrading Ollama). File and function at each port:
 * - qwen2.5vl: model/models/qwen25vl/process_image.go, newImageProcessor and ImageProcessor.SmartResize;
 *   tokens from model/models/qwen25vl/model.go, PostTokenize (one token per merged 2 × 2 block of 14 px patches).
 * - qwen3-vl: model/models/qwen3vl/imageprocessor.go, NewImageProcessor and ImageProcessor.SmartResize.
 * - gemma3: model/models/gemma3/process_image.go, ImageProcessor.ProcessImage; tokens from model/models/gemma3/model.go,
 *   New (mm_tokens_per_image, default 256).
 * - mllama (llama3.2-vision): model/models/mllama/process_image.go, optimalTiledCanvas, fitToCanvas and resize; the
 *   image takes no text positions (model/models/mllama/model.go, PostTokenize drops it into cross-attention).
 */

/** Families whose image processor is ported here; the names are what the catalog's `input.family` accepts. */
export const VISION_FAMILIES = ['qwen2.5vl', 'qwen3-vl', 'gemma3', 'mllama'] as const;
export type VisionFamily = (typeof VISION_FAMILIES)[number];

/** Families that scale the image to a pixel budget, rounding both sides to multiples of one factor. */
export type PixelBudgetFamily = 'qwen2.5vl' | 'qwen3-vl';

export interface PixelBudgetTarget {
  family: PixelBudgetFamily;
  /** At most this many pixels; defaults to (and may not exceed) what Ollama allows the family. */
  maxPixels?: number;
}

export interface FixedInputTarget {
  family: 'gemma3' | 'mllama';
}

/** A model family's own rule, as opposed to a plain { longSide } or { square } size. */
export type FamilyTarget = PixelBudgetTarget | FixedInputTarget;

export interface PixelBudgetRule {
  /** Both sides become multiples of this: the patch size × the spatial merge size. */
  factor: number;
  /** SmartResize enlarges an image below this many pixels. */
  minPixels: number;
  /** SmartResize shrinks an image above this many pixels: Ollama's cap for the family. */
  maxPixels: number;
}

/**
 * qwen2.5vl (model/models/qwen25vl/process_image.go, newImageProcessor): patch 14 × merge 2 = factor 28,
 * minPixels 56 × 56, maxPixels `vision.max_pixels` with the default 2 << 20 = 2,097,152 (Ollama's converter,
 * convert/convert_qwen25vl.go, writes no vision.max_pixels, so the default is what runs). Not 28 × 28 × 1280 =
 * 1,003,520: that is Hugging Face's processor default, which Ollama does not use.
 */
export const QWEN25VL_RULE: PixelBudgetRule = { factor: 28, minPixels: 56 * 56, maxPixels: 2 << 20 };

/**
 * qwen3-vl (model/models/qwen3vl/imageprocessor.go, NewImageProcessor): patch 16 × merge 2 = factor 32 (the converter
 * copies the model's patch_size, 16), minPixels `vision.shortest_edge` (65,536 in Qwen3-VL's preprocessor config),
 * maxPixels hard-coded to 2 << 20 (a FIXME there: the model's own 16 MP overflows an 8K context).
 */
export const QWEN3VL_RULE: PixelBudgetRule = { factor: 32, minPixels: 64 << 10, maxPixels: 2 << 20 };

/** gemma3 (model/models/gemma3/process_image.go, ProcessImage): every image becomes image_size² = 896², 256 tokens. */
export const GEMMA3_INPUT = { side: 896, tokens: 256 } as const;

/** llama3.2-vision (model/models/mllama/process_image.go): vision.image_size 560 px tiles, vision.max_num_tiles 4. */
export const MLLAMA_INPUT = { tile: 560, maxTiles: 4 } as const;

/**
 * SmartResize panics on a ratio of the long side to the short side (integer division) above this, and on a side
 * under the factor; what Argus sends must avoid both.
 */
export const QWEN_MAX_ASPECT_RATIO = 200;

export interface ModelInputSize {
  /** The size to send: the family's processor in Ollama leaves an image of this size as it is. */
  width: number;
  height: number;
  /**
   * Context positions (num_ctx) the image's embeddings take, without the 2-4 framing tokens around them
   * (vision start/end, start/end of image). 0 for mllama, whose image is read through cross-attention.
   */
  tokens: number;
  /** mllama: the 560 px tiles of the canvas Ollama pads the image into (1-4). */
  tiles?: number;
}

export function budgetRuleOf(target: PixelBudgetTarget): PixelBudgetRule {
  const base = target.family === 'qwen2.5vl' ? QWEN25VL_RULE : QWEN3VL_RULE;
  return target.maxPixels === undefined
    ? base
    : { ...base, maxPixels: Math.min(target.maxPixels, base.maxPixels) };
}

/**
 * The size and image tokens a model of `target`'s family gets for an upright width × height image. Argus resizes to
 * this size (qwen: exactly, `fit: 'fill'`; the aspect ratio moves by at most the rounding to the factor, as in Ollama),
 * so Ollama's own processor finds nothing to change.
 */
export function modelInputSize(target: FamilyTarget, width: number, height: number): ModelInputSize {
  if (!(width >= 1 && height >= 1 && Number.isInteger(width) && Number.isInteger(height)))
    throw new RangeError(`image size must be whole pixels of at least 1, got ${width}×${height}`);
  switch (target.family) {
    case 'qwen2.5vl':
    case 'qwen3-vl': {
      const rule = budgetRuleOf(target);
      const size = smartResize(rule, width, height);
      return { ...size, tokens: (size.width / rule.factor) * (size.height / rule.factor) };
    }
    case 'gemma3':
      return { width: GEMMA3_INPUT.side, height: GEMMA3_INPUT.side, tokens: GEMMA3_INPUT.tokens };
    case 'mllama':
      return mllamaSize(width, height);
  }
}

/** The most image tokens any image can cost under `target`: what the context check reserves. */
export function maxImageTokens(target: FamilyTarget): number {
  switch (target.family) {
    case 'qwen2.5vl':
    case 'qwen3-vl': {
      const rule = budgetRuleOf(target);
      return Math.floor(rule.maxPixels / (rule.factor * rule.factor));
    }
    case 'gemma3':
      return GEMMA3_INPUT.tokens;
    case 'mllama':
      return 0;
  }
}

/** Go's math.RoundToEven for the non-negative values SmartResize rounds. */
function roundHalfEven(value: number): number {
  const nearest = Math.round(value);
  return value % 1 === 0.5 && nearest % 2 === 1 ? nearest - 1 : nearest;
}

/**
 * Ollama's SmartResize (qwen25vl/process_image.go and qwen3vl/imageprocessor.go), operation for operation: round
 * each side to the nearest multiple of the factor (half to even); if that is over maxPixels, scale both sides by
 * √(h·w ÷ maxPixels) and round down; if under minPixels, scale up by √(minPixels ÷ h·w) and round up. The
 * float64 arithmetic is the same in JavaScript, in the same order, so the results match bit for bit.
 *
 * Ollama panics on a side under the factor or a ratio over 200; this port instead clamps its result into what Ollama
 * accepts (each side at least one factor, long side at most 200 × the short one), so what Argus sends always passes
 * through SmartResize unchanged.
 */
function smartResize(
  rule: PixelBudgetRule,
  width: number,
  height: number,
): { width: number; height: number } {
  const { factor, minPixels, maxPixels } = rule;
  let hBar = roundHalfEven(height / factor) * factor;
  let wBar = roundHalfEven(width / factor) * factor;
  if (hBar * wBar > maxPixels) {
    const beta = Math.sqrt((height * width) / maxPixels);
    hBar = Math.floor(height / beta / factor) * factor;
    wBar = Math.floor(width / beta / factor) * factor;
  } else if (hBar * wBar < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    hBar = Math.ceil((height * beta) / factor) * factor;
    wBar = Math.ceil((width * beta) / factor) * factor;
  }
  // Only extreme strips are changed here: a side rounded to 0 becomes one factor, and the long side gives up what
  // that added and anything beyond 200 × the short side.
  const short = Math.max(factor, Math.min(hBar, wBar));
  const long = Math.min(
    Math.max(factor, hBar, wBar),
    QWEN_MAX_ASPECT_RATIO * short,
    Math.floor(maxPixels / short / factor) * factor,
  );
  return hBar <= wBar ? { width: long, height: short } : { width: short, height: long };
}

interface Point {
  x: number;
  y: number;
}

/** mllama's supportedAspectRatios: every w × h tile grid with w · h ≤ maxTiles, w outer, h inner. */
function tileGrids(): Point[] {
  const grids: Point[] = [];
  for (let w = 1; w <= MLLAMA_INPUT.maxTiles; w++) {
    for (let h = 1; h <= Math.floor(MLLAMA_INPUT.maxTiles / w); h++) grids.push({ x: w, y: h });
  }
  return grids;
}

/**
 * mllama's optimalTiledCanvas: the canvas whose scale is the smallest enlargement if any canvas enlarges the image,
 * else the largest reduction; the smallest such canvas on a tie.
 */
function optimalTiledCanvas(image: Point): Point {
  const canvases = tileGrids().map((grid) => ({
    x: grid.x * MLLAMA_INPUT.tile,
    y: grid.y * MLLAMA_INPUT.tile,
  }));
  const scales = canvases.map((canvas) => Math.min(canvas.y / image.y, canvas.x / image.x));
  let minUpscale = 0;
  let maxDownscale = 0;
  let upscale = false;
  for (const scale of scales) {
    if (scale > 1) {
      upscale = true;
      minUpscale = minUpscale === 0 ? scale : Math.min(minUpscale, scale);
    } else {
      maxDownscale = Math.max(maxDownscale, scale);
    }
  }
  const selected = upscale ? minUpscale : maxDownscale;
  let chosen: Point | undefined;
  canvases.forEach((canvas, index) => {
    if (scales[index] !== selected) return;
    if (!chosen || canvas.x * canvas.y < chosen.x * chosen.y) chosen = canvas;
  });
  // A scale equal to `selected` always exists: it was taken from `scales`.
  return chosen ?? canvases[0];
}

/** mllama's fitToCanvas: the image scaled to fit the canvas, enlarged to at least one tile side where it can be. */
function fitToCanvas(image: Point, canvas: Point): Point {
  const tw = Math.min(Math.max(image.x, MLLAMA_INPUT.tile), canvas.x);
  const th = Math.min(Math.max(image.y, MLLAMA_INPUT.tile), canvas.y);
  const r = Math.min(tw / image.x, th / image.y);
  return { x: Math.min(Math.floor(image.x * r), tw), y: Math.min(Math.floor(image.y * r), th) };
}

/**
 * mllama: Ollama scales the image to fitToCanvas's size and pads it into the canvas's tiles. A reduction is done here
 * (that size is a fixed point: sent again, fitToCanvas keeps it). An enlargement is left to Ollama and the image sent
 * as it is: it loses nothing, and an image pre-enlarged to the fitted size can make optimalTiledCanvas pick a wider
 * canvas (a scale of exactly 1 does not count as an enlargement there). The tiles are those of the image sent: a
 * reduced image that exactly fills a smaller canvas (560×1120 cut from a 2 × 2 choice) is padded into that one.
 */
function mllamaSize(width: number, height: number): ModelInputSize {
  const image = { x: width, y: height };
  const fitted = fitToCanvas(image, optimalTiledCanvas(image));
  const sent = fitted.x < width || fitted.y < height ? fitted : image;
  const canvas = optimalTiledCanvas(sent);
  const tiles = (canvas.x / MLLAMA_INPUT.tile) * (canvas.y / MLLAMA_INPUT.tile);
  return { width: sent.x, height: sent.y, tokens: 0, tiles };
}
