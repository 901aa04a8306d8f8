// What pipeline-floor.ts hands its two child processes, written and read in one place.

export const FLOOR_SHAPES = ['worker-resize', 'gateway-resize'] as const;
export type FloorShape = (typeof FLOOR_SHAPES)[number];

/** The one subject the floor gateway requests and the floor worker answers. */
export const FLOOR_SUBJECT = 'floor.moderation';

export interface FloorSettings {
  natsUrl: string;
  port: number;
  shape: FloorShape;
  modelSize: { width: number; height: number };
  ollamaUrl: string;
  model: string;
}

export function floorEnv(settings: FloorSettings): NodeJS.ProcessEnv {
  return { FLOOR_SETTINGS: JSON.stringify(settings) };
}

export function readFloorSettings(): FloorSettings {
  const json = process.env.FLOOR_SETTINGS;
  if (json === undefined) throw new Error('FLOOR_SETTINGS is not set: start this through pipeline-floor.ts');
  return JSON.parse(json) as FloorSettings;
}
