// The least worker a same-shape pipeline needs (see pipeline-floor.ts): the model's input (made here from the
// upload, or received ready from the gateway), one non-streamed Ollama chat call, the answer as the reply. No
// contract checks, no telemetry, no admission control. Run as a child process of the bench; prints nothing.
import { connect, StringCodec } from 'nats';
import sharp from 'sharp';
import { FLOOR_SUBJECT, readFloorSettings } from './floor-settings';

const { natsUrl, shape, modelSize, ollamaUrl, model } = readFloorSettings();
const strings = StringCodec();

async function modelInputBase64(data: Uint8Array): Promise<string> {
  if (shape === 'gateway-resize') return strings.decode(data);
  const input = await sharp(data, { failOn: 'warning', sequentialRead: true })
    .resize({ ...modelSize, fit: 'fill' })
    .jpeg({ quality: 90 })
    .toBuffer();
  return input.toString('base64');
}

async function answer(data: Uint8Array): Promise<string> {
  const body = JSON.stringify({
    model,
    stream: false,
    options: { temperature: 0 },
    messages: [
      { role: 'user', content: 'Is this image safe to publish?', images: [await modelInputBase64(data)] },
    ],
  });
  const response = await fetch(`${ollamaUrl}/api/chat`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
  });
  const chat = (await response.json()) as { message?: { content?: string } };
  return JSON.stringify({ status: 'ok', answer: chat.message?.content ?? '' });
}

async function main(): Promise<void> {
  const nats = await connect({ servers: natsUrl });
  const requests = nats.subscribe(FLOOR_SUBJECT, { queue: 'floor' });
  process.send?.('ready');
  for await (const message of requests) {
    answer(message.data).then(
      (reply) => message.respond(strings.encode(reply)),
      (error: unknown) =>
        message.respond(strings.encode(JSON.stringify({ status: 'error', error: String(error) }))),
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`floor worker: ${String(error)}\n`);
  process.exit(1);
});
