import { runWorker } from '@argus/worker';
import { describeTask } from './task';

runWorker(describeTask).catch((error: unknown) => {
  process.stderr.write(
    `describe failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
