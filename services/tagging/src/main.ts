import { runWorker } from '@argus/worker';
import { taggingTask } from './task';

runWorker(taggingTask()).catch((error: unknown) => {
  process.stderr.write(
    `tagging failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
