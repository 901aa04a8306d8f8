import { runWorker } from '@argus/worker';
import { moderationTask } from './task';

runWorker(moderationTask()).catch((error: unknown) => {
  process.stderr.write(
    `moderation failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
