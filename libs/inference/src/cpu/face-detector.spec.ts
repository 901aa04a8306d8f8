import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ImageProcessor } from '@argus/imaging';
import sharp from 'sharp';
import {
  acceptedFaces,
  DEFAULT_FACE_THRESHOLDS,
  FACE_INPUT_LONG_SIDE,
  FaceDetector,
  humanModelsUrl,
  type RawFace,
} from './face-detector';

jest.setTimeout(30_000);

const processor = new ImageProcessor();

const raw = (box: RawFace['box'], boxScore: number, faceScore: number): RawFace => ({
  box,
  boxScore,
  faceScore,
});

describe('acceptedFaces', () => {
  const size = { width: 640, height: 480 };

  it('keeps a face only when both the box and the mesh reach their thresholds', () => {
    const faces = acceptedFaces(
      [
        raw([10, 10, 50, 50], 0.9, 0.99),
        // BlazeFace sure, mesh not: an animal's face or a round object.
        raw([100, 10, 50, 50], 0.9, 0.83),
        // Mesh sure, box weak: how pliers and a baseball scored on real photos.
        raw([200, 10, 50, 50], 0.6, 0.99),
      ],
      size,
      size,
    );
    expect(faces).toEqual([{ box: { x: 10, y: 10, width: 50, height: 50 }, boxScore: 0.9, meshScore: 0.99 }]);
  });

  it('takes the thresholds it is given', () => {
    const faces = acceptedFaces([raw([0, 0, 10, 10], 0.6, 0.95)], size, size, {
      minBoxScore: 0.5,
      minMeshScore: 0.9,
    });
    expect(faces).toHaveLength(1);
    expect(DEFAULT_FACE_THRESHOLDS.minBoxScore).toBeGreaterThan(0.6);
  });

  it('scales boxes to the source image along each axis and clamps them to it', () => {
    const faces = acceptedFaces(
      [raw([320, 240, 100, 100], 0.9, 1), raw([600, -20, 80, 60], 0.8, 1)],
      { width: 640, height: 480 },
      { width: 1280, height: 1440 },
    );
    expect(faces.map((face) => face.box)).toEqual([
      { x: 640, y: 720, width: 200, height: 300 },
      { x: 1200, y: 0, width: 80, height: 120 },
    ]);
  });

  it('boxes the mesh landmarks rather than the detector crop when the mesh ran', () => {
    const mesh = [
      [120, 110, 0],
      [180, 100, 0],
      [150, 190, 0],
    ];
    const [face] = acceptedFaces(
      [{ box: [90, 70, 120, 140], mesh, boxScore: 0.9, faceScore: 1 }],
      size,
      size,
    );
    expect(face.box).toEqual({ x: 120, y: 100, width: 60, height: 90 });
  });

  it('drops a box that lies outside the image and lists the strongest face first', () => {
    const faces = acceptedFaces(
      [raw([700, 10, 50, 50], 0.95, 1), raw([0, 0, 20, 20], 0.7, 0.92), raw([50, 50, 20, 20], 0.9, 0.98)],
      size,
      size,
    );
    expect(faces.map((face) => face.boxScore)).toEqual([0.9, 0.7]);
  });
});

describe('FaceDetector on @vladmandic/human (BlazeFace + face mesh, tfjs wasm)', () => {
  const detector = new FaceDetector();
  const realFetch = globalThis.fetch;
  const fetched: string[] = [];

  beforeAll(async () => {
    // Every model and binary comes from node_modules: any network request fails the suite.
    globalThis.fetch = (input: string | URL | Request) => {
      fetched.push(input instanceof Request ? input.url : String(input));
      return Promise.reject(new Error('network access during face detection'));
    };
    expect(detector.ready).toBe(false);
    await detector.warm();
  });

  afterAll(async () => {
    globalThis.fetch = realFetch;
    await detector.close();
  });

  it('loads the models from the package folder without any network request', () => {
    expect(detector.ready).toBe(true);
    expect(humanModelsUrl()).toMatch(/^file:\/\/.*@vladmandic\/human\/models\/$/);
    expect(fetched).toEqual([]);
  });

  it('finds no face in a product photo without people', async () => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="800">
      <rect width="1000" height="800" fill="#fff"/>
      <circle cx="500" cy="380" r="230" fill="#f2c9a0"/>
      <circle cx="420" cy="330" r="30" fill="#3a2a1a"/><circle cx="580" cy="330" r="30" fill="#3a2a1a"/>
      <rect x="400" y="470" width="200" height="24" rx="12" fill="#a0522d"/>
      <rect x="200" y="650" width="600" height="60" rx="10" fill="#4a6fa5"/>
    </svg>`;
    const rgb = await processor.toUprightRgb(
      await sharp(Buffer.from(svg)).jpeg().toBuffer(),
      FACE_INPUT_LONG_SIDE,
    );
    expect(await detector.detect(rgb)).toEqual([]);
  });

  it('finds the one face in a real photo, with its box in the source pixels', async () => {
    // A webcam frame inside a screenshot that ships with the package (800×564; the face is about 90 px wide).
    const file = path.join(
      path.dirname(require.resolve('@vladmandic/human')),
      '..',
      'assets',
      'screenshot-faceid.jpg',
    );
    const rgb = await processor.toUprightRgb(await readFile(file), 400);
    const source = { width: Math.round(rgb.width / rgb.scale), height: Math.round(rgb.height / rgb.scale) };
    const faces = await detector.detect(rgb, source);
    expect(faces).toHaveLength(1);
    const [{ box, boxScore, meshScore }] = faces;
    expect(boxScore).toBeGreaterThanOrEqual(DEFAULT_FACE_THRESHOLDS.minBoxScore);
    expect(meshScore).toBeGreaterThanOrEqual(DEFAULT_FACE_THRESHOLDS.minMeshScore);
    // The webcam picture fills x 10–150, y 136–274 of the 800 px screenshot; the face inside it is about 80 px wide
    // and 95 px tall, around (80, 205). The box is the face's, not the detector's enlarged crop.
    expect(box.x).toBeGreaterThan(25);
    expect(box.x + box.width).toBeLessThan(135);
    expect(box.y).toBeGreaterThan(145);
    expect(box.y + box.height).toBeLessThan(268);
    expect(box.width).toBeGreaterThan(60);
    expect(fetched).toEqual([]);
  });

  it('stops on close() and picks the models up again on the next detection', async () => {
    await detector.close();
    expect(detector.ready).toBe(false);
    const blank = { data: new Uint8Array(64 * 48 * 3).fill(255), width: 64, height: 48 };
    expect(await detector.detect(blank)).toEqual([]);
    expect(detector.ready).toBe(true);
  });

  it('rejects pixels that do not match the stated size', async () => {
    await expect(detector.detect({ data: new Uint8Array(10), width: 2, height: 2 })).rejects.toThrow(
      RangeError,
    );
  });
});
