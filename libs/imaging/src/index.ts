export { ACCEPTED_MEDIA_TYPES, sniffImageFormat } from './image-format';
export {
  DEFAULT_MIN_SIDE,
  ImageProcessor,
  type EncodedImage,
  type ImageLimits,
  type ImageProbe,
  type ModelInputTarget,
  type NormalisedImage,
  type OutputMime,
} from './image-processor';
