import { runWorker } from '@argus/worker';

runWorker('tagging').catch((error: unknown) => {
  process.stderr.write(
    `product-tagging failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
