export { ACCEPTED_MEDIA_TYPES, sniffImageFormat } from './image-format';
export {
  DEFAULT_MIN_SIDE,
  ImageProcessor,
  modelInputFit,
  type EncodedImage,
  type ImageLimits,
  type ImageProbe,
  type KnownImageFacts,
  type MeasureCopy,
  type LongSideTarget,
  type ModelInputFit,
  type ModelInputTarget,
  type NormalisedImage,
  type OcrImage,
  type OutputMime,
  type RawRgbImage,
  type SquareTarget,
} from './image-processor';
export {
  BLUR_THRESHOLD,
  EXPOSURE_RULES,
  type DominantColour,
  type ExposureMeasurement,
  type ExposureVerdict,
  type ImageMeasurements,
  type SharpnessMeasurement,
  type SharpnessVerdict,
} from './image-measurements';
export {
  GEMMA3_INPUT,
  maxImageTokens,
  MLLAMA_INPUT,
  modelInputSize,
  QWEN25VL_RULE,
  QWEN3VL_RULE,
  VISION_FAMILIES,
  type FamilyTarget,
  type FixedInputTarget,
  type ModelInputSize,
  type PixelBudgetFamily,
  type PixelBudgetRule,
  type PixelBudgetTarget,
  type VisionFamily,
} from './model-input';
export { COLOUR_PALETTE, nearestColourName } from './colour-names';
export * from './listing-measurements';
