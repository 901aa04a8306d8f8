import { runWorker } from '@argus/worker';
import { ocrTask } from './task';

runWorker(ocrTask).catch((error: unknown) => {
  process.stderr.write(`ocr failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
