import { runWorker } from '@argus/worker';

runWorker('ocr').catch((error: unknown) => {
  process.stderr.write(`ocr failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
