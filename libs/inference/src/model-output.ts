import type { z } from 'zod';
import { ArgusError } from '@argus/contracts';

/** Model output is untrusted input: parse it as JSON and hold it to the task's contract. */
export function parseModelOutput<Schema extends z.ZodType>(
  schema: Schema,
  content: string,
  model: string,
): z.infer<Schema> {
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch {
    throw new ArgusError('INVALID_MODEL_OUTPUT', `${model} answered with text that is not JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues.at(0);
    const where = first?.path.join('.') || '(root)';
    throw new ArgusError(
      'INVALID_MODEL_OUTPUT',
      `${model} answered JSON that breaks the contract at ${where}: ${first?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}
