// The least gateway a same-shape pipeline needs (see pipeline-floor.ts): multipart intake, sha256 of the upload, one
// decode that proves it whole, one NATS request to the worker. No validation beyond that, no telemetry, no stored
// image, no admission control. Run as a child process of the bench; prints nothing.
import { createHash } from 'node:crypto';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyRequest } from 'fastify';
import { connect, headers as natsHeaders, StringCodec } from 'nats';
import sharp from 'sharp';
import { FLOOR_SUBJECT, readFloorSettings } from './floor-settings';

const { natsUrl, port, shape, modelSize } = readFloorSettings();
const strings = StringCodec();

async function main(): Promise<void> {
  const nats = await connect({ servers: natsUrl });
  const results = await nats.jetstream().views.kv('floor-results', { history: 1 });
  const app = Fastify();
  await app.register(multipart, { limits: { fileSize: 25 * 2 ** 20 } });

  app.get('/healthz', () => ({ status: 'ok' }));

  app.post('/analyze', async (request) => {
    const upload = await fileOf(request);
    const sha256 = createHash('sha256').update(upload).digest('hex');
    const meta = await sharp(upload, { failOn: 'warning' }).metadata();
    const headers = natsHeaders();
    headers.set('width', String(meta.width));
    headers.set('height', String(meta.height));
    let payload: Uint8Array;
    if (shape === 'gateway-resize') {
      // The model's input made here from the one decode, passed inline as the base64 Ollama takes.
      const input = await sharp(upload, { failOn: 'warning', sequentialRead: true })
        .resize({ ...modelSize, fit: 'fill' })
        .jpeg({ quality: 90 })
        .toBuffer();
      payload = strings.encode(input.toString('base64'));
    } else {
      // Proven whole at 1/8 scale (every block is still entropy-decoded), the upload itself sent to the worker.
      await sharp(upload, { failOn: 'warning', sequentialRead: true })
        .resize(Math.ceil(meta.width / 8))
        .raw()
        .toBuffer();
      payload = upload;
    }
    const reply = await nats.request(FLOOR_SUBJECT, payload, { timeout: 10_000, headers });
    const moderation = JSON.parse(strings.decode(reply.data)) as unknown;
    await results.put(`reply.${sha256}`, reply.data);
    return { sha256, results: { moderation } };
  });

  // A repeat answered from one KV read, as Argus's reply cache does.
  app.post('/hit', async (request, reply) => {
    const upload = await fileOf(request);
    const sha256 = createHash('sha256').update(upload).digest('hex');
    const kept = await results.get(`reply.${sha256}`);
    if (kept === null || kept.operation !== 'PUT') return reply.code(404).send({ code: 'NOT_CACHED' });
    return {
      sha256,
      cached: true,
      results: { moderation: JSON.parse(strings.decode(kept.value)) as unknown },
    };
  });

  await app.listen({ host: '127.0.0.1', port });
  process.send?.('ready');
}

async function fileOf(request: FastifyRequest): Promise<Buffer> {
  const file = await request.file();
  if (file === undefined) throw new Error('no file part');
  return file.toBuffer();
}

main().catch((error: unknown) => {
  process.stderr.write(`floor gateway: ${String(error)}\n`);
  process.exit(1);
});
