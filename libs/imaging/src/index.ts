export { ACCEPTED_MEDIA_TYPES, sniffImageFormat } from './image-format';
export {
  DEFAULT_MIN_SIDE,
  ImageProcessor,
  type EncodedImage,
  type ImageLimits,
  type ImageProbe,
  type LongSideTarget,
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
export { COLOUR_PALETTE, nearestColourName } from './colour-names';
export { COLOUR_FAMILIES, colourFamiliesOf, colourWordsToPalette, sameColourFamily } from './colour-words';
export * from './listing-measurements';
