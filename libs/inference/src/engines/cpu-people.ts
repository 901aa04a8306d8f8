import type { People } from '@argus/contracts';
import { FACE_INPUT_LONG_SIDE } from '../cpu/face-detector';
import type { ImageContext } from '../image-context';
import type { EngineDependencies } from './engine-kit';

/**
 * Faces in the photo, boxes in stored-image pixels; null when the detector failed. A side read: a failure leaves
 * `people` null rather than failing the whole answer.
 */
export async function findPeople(
  image: Uint8Array,
  deps: Pick<EngineDependencies, 'processor' | 'faces'>,
): Promise<People | null> {
  try {
    const rgb = await deps.processor.toUprightRgb(image, FACE_INPUT_LONG_SIDE);
    const source = { width: Math.round(rgb.width / rgb.scale), height: Math.round(rgb.height / rgb.scale) };
    const faces = await deps.faces().detect(rgb, source);
    return {
      faces: faces.length,
      boxes: faces.map(({ box, boxScore }) => ({ ...box, confidence: boxScore })),
      engine: 'blazeface',
    };
  } catch {
    return null;
  }
}

/** Faces in the request's image, looked for once however many stages ask (findPeople never rejects). */
export function peopleIn(
  context: ImageContext,
  deps: Pick<EngineDependencies, 'faces' | 'processor'>,
): Promise<People | null> {
  return context.derive('people', (bytes) => findPeople(bytes, deps));
}
