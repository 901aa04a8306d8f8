import { loadGatewayConfig } from '@argus/config';
import { createGatewayApp } from './gateway.app';

async function main(): Promise<void> {
  const config = loadGatewayConfig();
  const app = await createGatewayApp(config);
  const url = await app.getUrl();
  process.stdout.write(`gateway ready: ${url.replace('[::1]', 'localhost')}/v1/analyze\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `gateway failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
