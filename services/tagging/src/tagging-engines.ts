import { z } from 'zod';
import {
  attributeSchemaFor,
  taggingModelOutputSchema,
  toModelFormat,
  type AttributeJsonSchema,
  type Defect,
  type Listing,
  type TaggingModelOutput,
  type TaggingOptions,
  type TaggingResult,
  type Task,
  type TierName,
} from '@argus/contracts';
import { modelInputFit, type ImageMeasurements, type ModelInputFit } from '@argus/imaging';
import {
  addUsage,
  CpuEngine,
  measurements,
  modelInput,
  ollamaOutputOptions,
  OllamaTaskEngine,
  peopleIn,
  sideOcrLines,
  withSpentUsage,
  type EngineAnswer,
  type EngineDependencies,
  type EngineRequest,
  type EngineSpec,
  type ImageContext,
  type TaskEngine,
  type TaskResult,
} from '@argus/inference';
import { judgeListing, type ModelListingView } from './listing-consistency';
import { readProductText, type ReadLine } from './product-text';
import { TAGGING_PROMPT } from './prompt';

/** What a vision model adds to product tagging that measurements and OCR cannot. */
export const CPU_UNJUDGED_TAGGING = [
  'category',
  'condition',
  'defects',
  'attributes.material',
  'attributes.pattern',
];

/** Categories are quoted in the prompt up to this many characters; a longer list is left to the schema's enum. */
export const PROMPT_CATEGORY_CHARS = 6_000;

/** Words a model uses for "I cannot tell"; such attribute values are dropped rather than reported. */
const NO_VALUE = new Set([
  '',
  'unknown',
  'none',
  'n/a',
  'na',
  'not visible',
  'unclear',
  'not applicable',
  '-',
]);

type Box = NonNullable<Defect['box']>;

/** What the model answers for tagging: the base schema, plus the parts a request adds. */
export type TaggingCall = TaggingModelOutput & {
  customAttributes?: Record<string, unknown>;
  listing?: { categoryMatches?: boolean; titleMatches?: boolean; note: string };
};

/** How one request is asked, decided from its options before any model call. */
export interface TaggingPlan {
  /** The `category` enum: the caller's list, which replaces the taxonomy, or the taxonomy. */
  categories: readonly string[];
  callerCategories: boolean;
  /** The caller's attribute schema asked for in the first call, when it is known before the model names a category. */
  upfront?: { key: string; schema: AttributeJsonSchema };
  /** Attribute schemas depend on the category: a second, small call once the model has named it. */
  followUp: boolean;
  /** Listing fields the model judges (the rest are measured or read). */
  judge: { title?: string; category?: string };
}

/**
 * The schema is known up front when the listing names a category a schema covers, or when every category the model
 * may answer falls under the same schema (only `*`, or one key covering the whole caller list); otherwise it depends
 * on the model's category, and a second call asks for it.
 */
export function planTagging(options: TaggingOptions | undefined, taxonomy: readonly string[]): TaggingPlan {
  const categories = options?.categories ?? taxonomy;
  const schemas = options?.attributeSchemas;
  let upfront: TaggingPlan['upfront'];
  let followUp = false;
  if (schemas) {
    const listed = options.listing?.category;
    upfront = listed === undefined ? undefined : attributeSchemaFor(schemas, listed);
    if (!upfront) {
      const keys = new Set(categories.map((category) => attributeSchemaFor(schemas, category)?.key));
      const [only] = keys;
      if (keys.size === 1 && only !== undefined) upfront = { key: only, schema: schemas[only] };
      else followUp = keys.size > 1;
    }
  }
  const listing = options?.listing;
  return {
    categories,
    callerCategories: options?.categories !== undefined,
    ...(upfront ? { upfront } : {}),
    followUp,
    judge: {
      ...(listing?.title !== undefined ? { title: listing.title } : {}),
      ...(listing?.category !== undefined ? { category: listing.category } : {}),
    },
  };
}

function attributeValues(schema: AttributeJsonSchema): z.ZodType<Record<string, unknown>> {
  return z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]) as z.ZodType<
    Record<string, unknown>
  >;
}

/** The request's output schema: the category enum, the caller's attribute schema, the listing verdicts. */
export function taggingOutput(plan: TaggingPlan): {
  schema: z.ZodType<TaggingCall>;
  format: Record<string, unknown>;
} {
  const [first, ...rest] = plan.categories;
  const shape: Record<string, z.ZodType> = {
    ...taggingModelOutputSchema.shape,
    category: z
      .enum([first, ...rest])
      .describe('the most specific category path from the allowed list that fits the product'),
  };
  if (plan.upfront) {
    shape.customAttributes = attributeValues(plan.upfront.schema).describe(
      'the attributes the caller asked for, as seen in the image',
    );
  }
  const { title, category } = plan.judge;
  if (title !== undefined || category !== undefined) {
    shape.listing = z.object({
      ...(title !== undefined
        ? { titleMatches: z.boolean().describe('true when the photo shows the product the title describes') }
        : {}),
      ...(category !== undefined
        ? { categoryMatches: z.boolean().describe('true when the product belongs in the listed category') }
        : {}),
      note: z.string().describe('one sentence: what differs from the listing, or that it agrees'),
    });
  }
  const schema = z.object(shape);
  return { schema: schema as unknown as z.ZodType<TaggingCall>, format: toModelFormat(schema) };
}

/** The user prompt: the base prompt, the categories to choose from, the caller's schema, the listing to judge. */
export function taggingPrompt(base: string, plan: TaggingPlan): string {
  const parts = [base];
  const list = plan.categories.join('\n');
  parts.push(
    list.length <= PROMPT_CATEGORY_CHARS
      ? `Allowed categories (answer the most specific one that fits):\n${list}`
      : `category must be one of the ${plan.categories.length} paths the schema allows.`,
  );
  if (plan.upfront) {
    parts.push(
      `customAttributes holds the product's attributes as this JSON schema describes them, from what you can see: ${JSON.stringify(plan.upfront.schema)}`,
    );
  }
  const { title, category } = plan.judge;
  if (title !== undefined || category !== undefined) {
    const said = [
      ...(title !== undefined ? [`title ${JSON.stringify(title)}`] : []),
      ...(category !== undefined ? [`category ${JSON.stringify(category)}`] : []),
    ].join(' and ');
    const fields = [
      ...(title !== undefined
        ? ['listing.titleMatches is true when the photo shows the product the title describes']
        : []),
      ...(category !== undefined
        ? ['listing.categoryMatches is true when the product belongs in the listed category']
        : []),
    ];
    parts.push(
      `The seller's listing gives the ${said}. ${fields.join('; ')}; listing.note says in one sentence what differs, or that it agrees.`,
    );
  }
  return parts.join('\n');
}

/** The prompt of the second call, once the model has named the category. */
export function customAttributesPrompt(
  category: string | null,
  pick: { key: string; schema: AttributeJsonSchema },
): string {
  return (
    `The product in this image is in the category ${JSON.stringify(category ?? pick.key)}. ` +
    'customAttributes holds its attributes as this JSON schema describes them, from what you can see in the ' +
    `image: ${JSON.stringify(pick.schema)}`
  );
}

/**
 * A box the model gave in the pixels of the image it was sent, in the pixels of the stored image. With `contain` the
 * model input is the stored image scaled by one factor and, for square inputs, padded evenly on two sides; with
 * `fill` (a vision family's exact size, modelInputFit) each axis has its own factor and there is no padding. Clamped
 * to the image; undefined when nothing of it is left.
 */
export function toStoredPixels(
  box: Box,
  input: { width: number; height: number },
  stored: { width: number; height: number },
  fit: ModelInputFit = 'contain',
): Box | undefined {
  const uniform = Math.min(input.width / stored.width, input.height / stored.height);
  const scaleX = fit === 'fill' ? input.width / stored.width : uniform;
  const scaleY = fit === 'fill' ? input.height / stored.height : uniform;
  const padX = (input.width - stored.width * scaleX) / 2;
  const padY = (input.height - stored.height * scaleY) / 2;
  const clampX = (value: number) => Math.min(stored.width, Math.max(0, Math.round((value - padX) / scaleX)));
  const clampY = (value: number) => Math.min(stored.height, Math.max(0, Math.round((value - padY) / scaleY)));
  const x0 = clampX(box.x);
  const y0 = clampY(box.y);
  const x1 = clampX(box.x + box.width);
  const y1 = clampY(box.y + box.height);
  if (x1 <= x0 || y1 <= y0) return undefined;
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

export function taggingFromMeasurements(measured: ImageMeasurements): TaggingResult {
  const top = measured.dominantColours.at(0);
  return {
    category: null,
    attributes: top ? { colour: top.name } : {},
    attributeSources: top ? { colour: 'measured' } : {},
    customAttributes: null,
    colours: measured.dominantColours,
    quality: {
      width: measured.width,
      height: measured.height,
      exposure: measured.exposure,
      sharpness: measured.sharpness,
    },
    condition: null,
    defects: [],
    photo: null,
    confidence: null,
  };
}

/**
 * Size text as OCR read it (source `ocr`) over whatever the model said (source `model`), under the measured colour
 * (source `measured`). The brand is OCR's only where the model named none: a vision model sees the logo and the
 * layout, while OCR's brand is a guess from the most prominent text (docs/product-analysis.md).
 */
function withText(result: TaggingResult, lines: readonly ReadLine[] | undefined): TaggingResult {
  if (!lines) return result;
  const text = readProductText(lines);
  const attributes = { ...result.attributes };
  const sources = { ...result.attributeSources };
  if (text.brand && sources.brand !== 'model') {
    attributes.brand = text.brand;
    sources.brand = 'ocr';
  }
  if (text.size) {
    attributes.size = text.size.text;
    sources.size = 'ocr';
  }
  return { ...result, attributes, attributeSources: sources };
}

/** The model's attributes with lowercase names, "color" spelled "colour", and "unknown"-like values dropped. */
function modelAttributes(attributes: Record<string, string>): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [name, value] of Object.entries(attributes)) {
    const key = name.trim().toLowerCase() === 'color' ? 'colour' : name.trim().toLowerCase();
    const text = value.trim();
    if (key && !NO_VALUE.has(text.toLowerCase())) clean[key] = text;
  }
  return clean;
}

/** The side read of the image's text: memoised per image; undefined when it was too busy or the read failed. */
function readText(
  image: ImageContext,
  deps: Pick<EngineDependencies, 'processor' | 'tesseract'>,
): Promise<ReadLine[] | undefined> {
  // Brand and size are a side job of tagging: a failed read leaves them out (and the text_overlay check, which
  // reads the same buffer, reports the failure) rather than failing the whole answer.
  return sideOcrLines(image, deps).catch(() => undefined);
}

/**
 * Product tagging on a vision model: one call with the request's output schema (category enum, the caller's
 * attribute schema when it is known, the listing verdicts), then, when the attribute schema depends on the
 * category the model named, a second small call for it. OCR (brand, size) and measurements (colours) run alongside.
 */
class OllamaTaggingEngine implements TaskEngine<TaskResult, TaggingOptions> {
  readonly kind = 'ollama' as const;
  private readonly main: OllamaTaskEngine<TaggingCall, TaggingOptions>;

  constructor(
    private readonly spec: EngineSpec,
    private readonly deps: EngineDependencies,
    private readonly taxonomy: readonly string[],
  ) {
    const plain = taggingOutput(planTagging(undefined, taxonomy));
    this.main = new OllamaTaskEngine<TaggingCall, TaggingOptions>(deps.ollama(spec.tier), deps.processor, {
      task: 'tagging',
      tier: spec.tier,
      model: spec.model,
      input: spec.input,
      prompt: TAGGING_PROMPT,
      userPrompt: (request) => taggingPrompt(TAGGING_PROMPT.user, this.plan(request)),
      outputSchema: plain.schema,
      format: plain.format,
      outputFor: (request) => taggingOutput(this.plan(request)),
      ...ollamaOutputOptions(spec),
      interpret: (output, request) => this.interpret(output, request),
    });
  }

  get task(): Task {
    return 'tagging';
  }
  get tier(): TierName {
    return this.spec.tier;
  }
  get model(): string {
    return this.spec.model;
  }
  get promptVersion(): string {
    return this.main.promptVersion;
  }
  /** Model, prompt version, input size and the taxonomy (through the default format). */
  get fingerprint(): string {
    return this.main.fingerprint;
  }

  private plan(request: EngineRequest<TaggingOptions>): TaggingPlan {
    return planTagging(request.options, this.taxonomy);
  }

  async run(request: EngineRequest<TaggingOptions>): Promise<EngineAnswer> {
    // The text is read and the faces looked for while the model thinks; interpret() picks up the same reads.
    void readText(request.context, this.deps);
    void peopleIn(request.context, this.deps);
    const first = await this.main.run(request);
    const result = first.result as TaggingResult;
    const pick = this.plan(request).followUp
      ? attributeSchemaFor(request.options.attributeSchemas, result.category)
      : undefined;
    if (!pick) return first;
    const values = attributeValues(pick.schema);
    const attributesOutput = z.object({ customAttributes: values });
    const followUp = new OllamaTaskEngine(this.deps.ollama(this.spec.tier), this.deps.processor, {
      task: 'tagging',
      tier: this.spec.tier,
      model: this.spec.model,
      input: this.spec.input,
      prompt: TAGGING_PROMPT,
      userPrompt: () => customAttributesPrompt(result.category, pick),
      outputSchema: attributesOutput,
      format: toModelFormat(attributesOutput),
      ...ollamaOutputOptions(this.spec),
      interpret: (output) =>
        Promise.resolve({
          ...first,
          result: { ...result, customAttributes: { schema: pick.key, values: output.customAttributes } },
        }),
    });
    const second = await followUp.run(request).catch((error: unknown) => {
      // The first call's tokens were spent too: the error carries every call's usage.
      throw withSpentUsage(error, first.usage);
    });
    return { ...second, usage: addUsage(first.usage, second.usage) };
  }

  private async interpret(
    output: TaggingCall,
    request: EngineRequest<TaggingOptions>,
  ): Promise<Omit<EngineAnswer, 'usage'>> {
    const [measured, lines, input, people] = await Promise.all([
      measurements(request.context, this.deps.processor),
      readText(request.context, this.deps),
      modelInput(request.context, this.deps.processor, this.spec.input),
      peopleIn(request.context, this.deps),
    ]);
    const base = taggingFromMeasurements(measured);
    const said = modelAttributes(output.attributes);
    const modelSources = Object.fromEntries(Object.keys(said).map((name) => [name, 'model' as const]));
    // Measured colours are exact and OCR reads the printed brand and size; the model's words fill in the rest.
    const result = withText(
      {
        ...base,
        category: output.category,
        attributes: { ...said, ...base.attributes },
        attributeSources: { ...modelSources, ...base.attributeSources },
        customAttributes: output.customAttributes
          ? { schema: this.plan(request).upfront?.key ?? '*', values: output.customAttributes }
          : null,
        condition: output.condition,
        defects: output.defects.map((defect) => {
          const { box, ...rest } = defect;
          const stored = box
            ? toStoredPixels(box, input, measured, modelInputFit(this.spec.input))
            : undefined;
          return stored ? { ...rest, box: stored } : rest;
        }),
        photo: output.photo,
        people,
        confidence: output.confidence,
      },
      lines,
    );
    const listing: Listing | undefined = request.options.listing;
    if (listing) {
      const model: ModelListingView = {
        category: output.category,
        ...(said.brand ? { brand: said.brand } : {}),
        ...(said.size ? { size: said.size } : {}),
        ...(output.listing ? { listing: output.listing } : {}),
      };
      result.consistency = judgeListing({
        listing,
        colours: measured.dominantColours,
        lines,
        model,
      }).consistency;
    }
    return { result, confidence: output.confidence, wantsReview: false, needsGpuTier: [] };
  }
}

export function ollamaTaggingEngine(
  spec: EngineSpec,
  deps: EngineDependencies,
  /** The product taxonomy's paths, loaded at boot (ARGUS_PRODUCT_CATEGORIES or config/product-categories.yaml). */
  taxonomy: readonly string[],
): TaskEngine {
  return new OllamaTaggingEngine(spec, deps, taxonomy);
}

export function cpuTaggingEngine(
  spec: EngineSpec,
  deps: EngineDependencies,
): TaskEngine<TaskResult, TaggingOptions> {
  return new CpuEngine<TaggingOptions>(spec, async ({ context, options: tagging }) => {
    const [measured, lines, people] = await Promise.all([
      measurements(context, deps.processor),
      readText(context, deps),
      peopleIn(context, deps),
    ]);
    const result = withText({ ...taggingFromMeasurements(measured), people }, lines);
    const needsGpuTier = [...CPU_UNJUDGED_TAGGING];
    // Text too busy to read in time: a vision model can still read the brand and size.
    if (!lines) needsGpuTier.push('attributes.brand', 'attributes.size');
    if (tagging.attributeSchemas) needsGpuTier.push('customAttributes');
    if (tagging.listing) {
      const judged = judgeListing({ listing: tagging.listing, colours: measured.dominantColours, lines });
      result.consistency = judged.consistency;
      needsGpuTier.push(...judged.needsGpuTier);
    }
    return { result, confidence: null, wantsReview: false, needsGpuTier };
  });
}
