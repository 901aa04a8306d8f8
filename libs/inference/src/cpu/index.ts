export { NSFW_INPUT_SIZE, NsfwClassifier, type NsfwScores, type RgbPixels } from './nsfw-classifier';
export {
  tesseractLangPath,
  TesseractOcr,
  toOcrPage,
  type Box,
  type OcrLine,
  type OcrPage,
  type OcrWord,
} from './tesseract-ocr';
