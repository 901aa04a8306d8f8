// Every JSON example in README.md and docs/*.md says which contract it shows, and is parsed with that contract's zod
// schema, so an example cannot drift from the code. The marker is an HTML comment on the last non-blank line before
// the fence:
//
//   <!-- contract: AnalyzeResponse -->           the block is one whole body of that contract
//   <!-- contract: AnalyzeResults -->            a block that starts with `"name":` is a fragment: the members of an
//                                                 object, checked as `{ ... }` (here `"moderation": { ... }`)
//   <!-- contract: TaggingReply.compliance -->   a fragment holding one member of a contract, checked against it
//   <!-- contract: none (an Ollama request) -->  not an Argus body; the reason is required
//
// A block without a marker fails, and so does a marker naming no contract. Besides zod's own issues, the test fails
// on members the contract does not know (zod strips them silently) and on elisions (`"…"` as a key or an array
// element): an example is written out in full, or marked none; a string value may still be shortened (an id such as
// "3f0c…"). `jsonl` blocks are checked line by line; `jsonc` and `json5` blocks cannot be parsed, so they must be
// marked none.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { z } from 'zod';
import {
  analysisOptionFields,
  analyzeJsonBodySchema,
  analyzeResponseSchema,
  analyzeResultsSchema,
  createJobBodySchema,
  jobCreatedSchema,
  jobItemStatusSchema,
  jobListSchema,
  jobStatusSchema,
  modelsReplySchema,
  moderationReplySchema,
  ocrReplySchema,
  pingReplySchema,
  problemSchema,
  resolveReviewBodySchema,
  reviewListSchema,
  taggingReplySchema,
  webhookEventSchema,
  describeReplySchema,
} from '@argus/contracts';
import { datasetItemSchema } from '../../eval/dataset';

const ROOT = join(__dirname, '..', '..');

/** The contracts an example may name. Add one here when a doc shows a new kind of body. */
const CONTRACTS: Record<string, z.ZodType> = {
  AnalyzeResponse: analyzeResponseSchema,
  AnalyzeResults: analyzeResultsSchema,
  AnalyzeJsonBody: analyzeJsonBodySchema,
  /** The option members of an analyze or job body, without an image (the fragment docs show for one option). */
  AnalyzeOptions: z.strictObject(analysisOptionFields),
  Problem: problemSchema,
  ModerationReply: moderationReplySchema,
  TaggingReply: taggingReplySchema,
  OcrReply: ocrReplySchema,
  DescribeReply: describeReplySchema,
  ModelsReply: modelsReplySchema,
  PingReply: pingReplySchema,
  CreateJobBody: createJobBodySchema,
  JobCreated: jobCreatedSchema,
  /** GET /v1/jobs/{id}. The contract types `results.<task>` loosely; docs/jobs.md says it is the task's reply. */
  JobStatus: jobStatusSchema.extend({
    items: z.array(jobItemStatusSchema.extend({ results: analyzeResultsSchema })),
  }),
  /** GET /v1/jobs. */
  JobList: jobListSchema,
  WebhookEvent: webhookEventSchema,
  ReviewList: reviewListSchema,
  ResolveReviewBody: resolveReviewBodySchema,
  /** One line of an eval dataset.jsonl (eval/dataset.ts). */
  EvalDatasetItem: datasetItemSchema,
};

interface DocBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  /** The marker's text after `contract:`, or undefined without a marker. */
  marker: string | undefined;
  body: string;
}

const FENCE_OPEN = /^\s*```(json\w*)\s*$/;
const FENCE_CLOSE = /^\s*```\s*$/;
const MARKER = /^\s*<!--\s*contract:\s*(.*?)\s*-->\s*$/;

function docFiles(root = ROOT): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => join(root, 'docs', name));
  return [join(root, 'README.md'), ...docs];
}

/** The fenced json/jsonl/jsonc blocks of one markdown text, each with the marker before it. */
function extractBlocks(file: string, text: string): DocBlock[] {
  const lines = text.split('\n');
  const blocks: DocBlock[] = [];
  let inOtherFence = false;
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE_OPEN.exec(lines[i]);
    if (!open) {
      if (/^\s*```/.test(lines[i])) inOtherFence = !inOtherFence;
      continue;
    }
    if (inOtherFence) continue;
    let end = i + 1;
    while (end < lines.length && !FENCE_CLOSE.test(lines[end])) end++;
    let before = i - 1;
    while (before >= 0 && lines[before].trim() === '') before--;
    const marker = before >= 0 ? MARKER.exec(lines[before])?.[1] : undefined;
    blocks.push({ file, line: i + 1, lang: open[1], marker, body: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

type Marker = { kind: 'none'; reason: string } | { kind: 'contract'; name: string; member?: string };

function parseMarker(marker: string): Marker | string {
  const none = /^none\s*\((.+)\)$/.exec(marker);
  if (none) return { kind: 'none', reason: none[1] };
  if (marker.startsWith('none')) return 'a none marker needs its reason: <!-- contract: none (why) -->';
  const named = /^([A-Za-z]+)(?:\.([A-Za-z]+))?$/.exec(marker);
  if (!named) return `"${marker}" is not a contract name`;
  if (!Object.hasOwn(CONTRACTS, named[1])) {
    return `no contract "${named[1]}"; known: ${Object.keys(CONTRACTS).join(', ')}`;
  }
  return { kind: 'contract', name: named[1], member: named[2] };
}

/** The schema of one member of an object contract, or of the `ok` branch of a reply that has it. */
function memberSchema(schema: z.ZodType, member: string): z.ZodType | undefined {
  if (schema instanceof z.ZodObject) return (schema.shape as Record<string, z.ZodType>)[member];
  if (schema instanceof z.ZodDiscriminatedUnion) {
    for (const option of schema.options as z.ZodType[]) {
      const found = memberSchema(option, member);
      if (found) return found;
    }
  }
  return undefined;
}

function lineOf(text: string, position: number): number {
  return text.slice(0, position).split('\n').length;
}

/** JSON.parse, with the failing line within the block when the engine says where. */
function parseJson(text: string): { value: unknown } | { error: string; line?: number } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message)?.[1];
    return { error: message, line: position === undefined ? undefined : lineOf(text, Number(position)) };
  }
}

const ELISION = /^\s*(…|\.\.\.)\s*$/;
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Members of the example that the parsed output lost (zod strips unknown keys), and elided keys or elements. Without an
 * output (the parse failed) only elisions are looked for.
 */
function strayMembers(input: unknown, output: unknown, path: string[] = []): string[] {
  const problems: string[] = [];
  const at = (key: string | number) => [...path, String(key)].join('.');
  if (Array.isArray(input)) {
    input.forEach((element, index) => {
      if (typeof element === 'string' && ELISION.test(element)) {
        problems.push(`${at(index)}: an elision ("${element}"); write the element out`);
      } else {
        problems.push(
          ...strayMembers(element, Array.isArray(output) ? output[index] : undefined, [
            ...path,
            String(index),
          ]),
        );
      }
    });
  } else if (isPlainObject(input)) {
    const known = isPlainObject(output) ? output : undefined;
    for (const [key, value] of Object.entries(input)) {
      if (ELISION.test(key)) {
        problems.push(`${at(key)}: an elided member; write the members out`);
      } else if (known && !(key in known)) {
        problems.push(`${at(key)}: not in the contract (zod would drop it)`);
      } else {
        problems.push(...strayMembers(value, known?.[key], [...path, key]));
      }
    }
  }
  return problems;
}

function zodProblems(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
}

/** What is wrong with one block, as lines naming file:line; empty when it is fine. */
function checkBlock(block: DocBlock, root = ROOT): string[] {
  const where = `${relative(root, block.file)}:${block.line}`;
  if (block.marker === undefined) {
    return [
      `${where}: \`\`\`${block.lang} block without a marker: put <!-- contract: Name --> (one of ` +
        `${Object.keys(CONTRACTS).join(', ')}) or <!-- contract: none (why) --> on the line before it`,
    ];
  }
  const marker = parseMarker(block.marker);
  if (typeof marker === 'string') return [`${where}: ${marker}`];
  if (marker.kind === 'none') return [];
  if (block.lang !== 'json' && block.lang !== 'jsonl') {
    return [`${where}: a \`\`\`${block.lang} block cannot be parsed; mark it none, or write it as json`];
  }
  let schema: z.ZodType = CONTRACTS[marker.name];
  if (marker.member) {
    const member = memberSchema(schema, marker.member);
    if (!member) return [`${where}: ${marker.name} has no member "${marker.member}"`];
    schema = z.strictObject({ [marker.member]: member });
  }
  const documents =
    block.lang === 'jsonl'
      ? block.body
          .split('\n')
          .map((text, index) => ({ text, offset: index }))
          .filter(({ text }) => text.trim() !== '')
      : [{ text: block.body, offset: 0 }];
  const problems: string[] = [];
  for (const { text, offset } of documents) {
    // A fragment (`"moderation": { ... }`) is the members of an object.
    const source = text.trimStart().startsWith('"') ? `{${text}\n}` : text;
    const docLine = block.line + 1 + offset;
    const parsed = parseJson(source);
    if ('error' in parsed) {
      const line = parsed.line === undefined ? docLine : docLine + parsed.line - 1;
      problems.push(`${relative(root, block.file)}:${line}: not JSON (${parsed.error})`);
      continue;
    }
    const result = schema.safeParse(parsed.value);
    const issues = result.success
      ? strayMembers(parsed.value, result.data)
      : [...zodProblems(result.error), ...strayMembers(parsed.value, undefined)];
    for (const issue of issues) {
      problems.push(`${relative(root, block.file)}:${docLine}: ${block.marker}: ${issue}`);
    }
  }
  return problems;
}

const blocks = docFiles().flatMap((file) => extractBlocks(file, readFileSync(file, 'utf8')));
const where = (block: DocBlock) => `${relative(ROOT, block.file)}:${block.line}`;
const checked = blocks
  .filter((block) => block.marker !== undefined && !/^none\b/.test(block.marker))
  .map((block) => ({ where: where(block), marker: block.marker, block }));

describe('JSON examples in README.md and docs/*.md', () => {
  it('are found', () => {
    expect(blocks.length).toBeGreaterThan(10);
  });

  it('each carry a marker naming their contract, or none with a reason', () => {
    const unmarked = blocks.filter((block) => {
      if (block.marker === undefined) return true;
      return typeof parseMarker(block.marker) === 'string';
    });
    expect(unmarked.flatMap((block) => checkBlock(block))).toEqual([]);
  });

  it.each(checked)('$where validates against $marker', ({ block }) => {
    expect(checkBlock(block)).toEqual([]);
  });
});

describe('the checker itself', () => {
  const file = join(ROOT, 'docs', 'example.md');
  const check = (markdown: string) => extractBlocks(file, markdown).flatMap((block) => checkBlock(block));

  it('fails an unmarked block, naming file and line', () => {
    expect(check('text\n\n```json\n{}\n```\n')).toEqual([
      expect.stringMatching(/^docs\/example\.md:3: ```json block without a marker/),
    ]);
  });

  it('passes a none block, and wants a reason for it', () => {
    expect(check('<!-- contract: none (an Ollama request) -->\n```json\n{ "model": … }\n```\n')).toEqual([]);
    expect(check('<!-- contract: none -->\n```json\n{}\n```\n')).toEqual([
      expect.stringContaining('needs its reason'),
    ]);
  });

  it('reports zod issues, unknown members and elisions', () => {
    const problems = check(
      '<!-- contract: JobCreated -->\n\n```json\n{ "jobId": "j", "status": "later", "items": ["…"], "…": "…" }\n```\n',
    );
    expect(problems).toEqual([
      expect.stringMatching(/^docs\/example\.md:4: JobCreated: status: /),
      'docs/example.md:4: JobCreated: items.0: Invalid input: expected object, received string',
      'docs/example.md:4: JobCreated: items.0: an elision ("…"); write the element out',
      'docs/example.md:4: JobCreated: …: an elided member; write the members out',
    ]);
    expect(
      check(
        '<!-- contract: JobCreated -->\n```json\n{ "jobId": "j", "status": "queued", "items": [], "extra": 1 }\n```',
      ),
    ).toEqual(['docs/example.md:3: JobCreated: extra: not in the contract (zod would drop it)']);
  });

  it('checks fragments and single members', () => {
    expect(
      check('<!-- contract: TaggingReply.customAttributes -->\n```json\n"customAttributes": null\n```'),
    ).toEqual([]);
    expect(
      check('<!-- contract: TaggingReply.people -->\n```json\n"people": { "faces": -1 }\n```'),
    ).not.toEqual([]);
    expect(check('<!-- contract: TaggingReply.nope -->\n```json\n"nope": 1\n```')).toEqual([
      'docs/example.md:2: TaggingReply has no member "nope"',
    ]);
  });

  it('names the line of a JSON syntax error', () => {
    expect(check('<!-- contract: Problem -->\n```json\n{\n  "type": "x",\n  oops\n}\n```')).toEqual([
      expect.stringMatching(/^docs\/example\.md:5: not JSON/),
    ]);
  });

  it('checks jsonl line by line', () => {
    expect(
      check(
        '<!-- contract: EvalDatasetItem -->\n```jsonl\n{"id":"a","image":"a.jpg","expected":{}}\n{"id":"b"}\n```',
      ),
    ).toEqual([
      expect.stringMatching(/^docs\/example\.md:4: EvalDatasetItem: image: /),
      expect.stringMatching(/^docs\/example\.md:4: EvalDatasetItem: expected: /),
    ]);
  });
});
