import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { base64Bytes, chatBodyWithImage, ndjsonLines } from './ollama-wire';

async function collect(stream: PassThrough): Promise<Array<Record<string, unknown>>> {
  const lines: Array<Record<string, unknown>> = [];
  for await (const line of ndjsonLines(stream)) lines.push(line);
  return lines;
}

describe('base64Bytes', () => {
  it.each([0, 1, 2, 3, 4, 49_151, 49_152, 49_153, 98_305, 300_001])(
    'writes the same base64 as Buffer#toString for %i bytes',
    (size) => {
      const image = randomBytes(size);
      expect(base64Bytes(image).toString('latin1')).toBe(image.toString('base64'));
    },
  );

  it('reads a view into a larger buffer from its own offset', () => {
    const whole = randomBytes(1_000);
    const view = new Uint8Array(whole.buffer, whole.byteOffset + 17, 500);
    expect(base64Bytes(view).toString('latin1')).toBe(Buffer.from(view).toString('base64'));
  });
});

describe('chatBodyWithImage', () => {
  const image = randomBytes(70_000);
  const asJson = (body: { parts: Buffer[]; length: number }) => {
    const joined = Buffer.concat(body.parts);
    expect(joined.length).toBe(body.length);
    return JSON.parse(joined.toString('utf8')) as unknown;
  };

  it('is the JSON of the request with the image in the chosen message, as ollama-js would send it', () => {
    const fields = {
      model: 'qwen2.5vl:3b',
      stream: true,
      format: { type: 'object' },
      options: { temperature: 0 },
    };
    const messages = [
      { role: 'system', content: 'Answer in JSON. "Quotes", \\ and \u2028 survive.' },
      { role: 'user', content: 'describe' },
      { role: 'assistant', content: '{"text":"ünïcode"}' },
      { role: 'user', content: 'again' },
    ];
    const expected = {
      ...fields,
      messages: messages.map((message, index) =>
        index === 1 ? { ...message, images: [image.toString('base64')] } : message,
      ),
    };
    expect(asJson(chatBodyWithImage(fields, messages, 1, image))).toEqual(expected);
  });

  it('puts the image in the first or last message, with no other fields, and replaces images already there', () => {
    const messages = [{ role: 'user', content: 'a', images: ['stale'] }, {}];
    expect(asJson(chatBodyWithImage({}, messages, 0, image))).toEqual({
      messages: [{ role: 'user', content: 'a', images: [image.toString('base64')] }, {}],
    });
    expect(asJson(chatBodyWithImage({}, messages, 1, image))).toEqual({
      messages: [{ role: 'user', content: 'a' }, { images: [image.toString('base64')] }],
    });
  });

  it('refuses an image index with no message', () => {
    expect(() => chatBodyWithImage({}, [{ role: 'user' }], 1, image)).toThrow(RangeError);
  });
});

describe('ndjsonLines', () => {
  it('parses lines split anywhere across chunks, multi-byte characters included, and a last line without \\n', async () => {
    const text = `${JSON.stringify({ message: { content: 'Grüße, 東京' } })}\n\n${JSON.stringify({ done: true })}`;
    const bytes = Buffer.from(text);
    const stream = new PassThrough();
    const lines = collect(stream);
    for (let offset = 0; offset < bytes.length; offset += 3) stream.write(bytes.subarray(offset, offset + 3));
    stream.end();
    await expect(lines).resolves.toEqual([{ message: { content: 'Grüße, 東京' } }, { done: true }]);
  });

  it('ends with an error on a line that is not a JSON object', async () => {
    for (const bad of ['{"done":tr', '[1,2]', '"text"']) {
      const stream = new PassThrough();
      const lines = collect(stream);
      stream.end(`{"done":false}\n${bad}\n`);
      await expect(lines).rejects.toThrow(/not (JSON|a JSON object)/);
    }
  });
});
