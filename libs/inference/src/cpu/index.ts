export { NSFW_INPUT_SIZE, NsfwClassifier, type NsfwScores, type RgbPixels } from './nsfw-classifier';
export {
  acceptedFaces,
  DEFAULT_FACE_THRESHOLDS,
  FACE_INPUT_LONG_SIDE,
  FaceDetector,
  type DetectedFace,
  type FaceThresholds,
} from './face-detector';
export {
  paddleModelFiles,
  PaddleOcr,
  type PageAngle,
  type PageOrientation,
  type PaddleLine,
  type PaddlePage,
} from './paddle-ocr';
export {
  tesseractLangPath,
  TesseractOcr,
  toOcrPage,
  type Box,
  type OcrLine,
  type OcrPage,
  type OcrWord,
  type PageSegmentation,
} from './tesseract-ocr';
export { OnnxModels, type ModelTensor, type OnnxSessionOptions } from './onnx-models';

/** The embedded CPU runtimes by name: what a task's CPU engine is composed of. */
export interface CpuRuntimes {
  nsfw: import('./nsfw-classifier').NsfwClassifier;
  tesseract: import('./tesseract-ocr').TesseractOcr;
  paddle: import('./paddle-ocr').PaddleOcr;
  faces: import('./face-detector').FaceDetector;
}
