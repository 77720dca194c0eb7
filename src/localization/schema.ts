// JSON schemas for `POST /v1/localization`, for Fastify's validator and serializer.
//
// Alternatives (prediction: `locations` or `prediction_text`; gold: `file_changes` or
// `patch` + `files`) are written as `oneOf` over `required` lists only, with the properties and
// `additionalProperties: false` outside the `oneOf`. Fastify's default Ajv runs with
// `removeAdditional: true`, which would strip a property while trying the wrong `oneOf` branch if
// the branches carried `additionalProperties: false` themselves.

/** Size limits, shared by the schema and by scoreLocalization's own checks. */
export const LOCALIZATION_LIMITS = {
  items: 256,
  locations: 1_000,
  /** Characters in a path, class name, function name or gold location string. */
  name: 1_024,
  predictionText: 1_000_000,
  fileChanges: 1_000,
  /** Entries in one `edited_modules` / `edited_entities` list. */
  goldLocations: 10_000,
  patch: 2_000_000,
  files: 200,
  /** Characters in one original source file. */
  source: 2_000_000,
  /** Characters in all original sources of one item together. */
  sourcesPerItem: 8_000_000,
} as const;

const L = LOCALIZATION_LIMITS;

const name = { type: 'string', maxLength: L.name } as const;
const nullableName = { type: ['string', 'null'], maxLength: L.name } as const;
const goldList = { type: ['array', 'null'], maxItems: L.goldLocations, items: name } as const;

const codeLocation = {
  type: 'object',
  additionalProperties: false,
  required: ['file'],
  properties: { file: name, class_name: nullableName, function_name: nullableName },
} as const;

const fileChange = {
  type: 'object',
  additionalProperties: false,
  required: ['file'],
  properties: {
    file: name,
    changes: {
      type: 'object',
      additionalProperties: false,
      // LocAgent's files also list what the patch added; those are accepted and not scored.
      properties: { edited_modules: goldList, edited_entities: goldList, added_modules: goldList, added_entities: goldList },
    },
  },
} as const;

const gold = {
  type: 'object',
  additionalProperties: false,
  description: 'Exactly one of `file_changes` and `patch` + `files`.',
  properties: {
    file_changes: { type: 'array', maxItems: L.fileChanges, items: fileChange },
    patch: { type: 'string', maxLength: L.patch, description: 'A unified diff.' },
    files: {
      type: 'object',
      description: 'Original source of each .py file the patch edits, by path.',
      maxProperties: L.files,
      propertyNames: { maxLength: L.name },
      additionalProperties: { type: 'string', maxLength: L.source },
    },
  },
  oneOf: [
    { required: ['file_changes'], not: { anyOf: [{ required: ['patch'] }, { required: ['files'] }] } },
    { required: ['patch', 'files'], not: { required: ['file_changes'] } },
  ],
} as const;

const item = {
  type: 'object',
  additionalProperties: false,
  description: 'Exactly one of `locations` and `prediction_text`.',
  required: ['gold'],
  properties: {
    locations: { type: 'array', maxItems: L.locations, items: codeLocation },
    prediction_text: { type: 'string', maxLength: L.predictionText, description: "The agent's final turn." },
    gold,
  },
  oneOf: [{ required: ['locations'] }, { required: ['prediction_text'] }],
} as const;

const weight = { type: 'number', minimum: 0, maximum: 3, default: 1 } as const;

export const localizationBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['items'],
  properties: {
    items: { type: 'array', minItems: 1, maxItems: L.items, items: item },
    weights: {
      type: 'object',
      additionalProperties: false,
      description: 'Weights of the three F1s in the reward (0..3 each).',
      properties: { file: weight, module: weight, entity: weight },
    },
  },
} as const;

const levelScore = {
  type: 'object',
  additionalProperties: false,
  required: ['precision', 'recall', 'f1'],
  properties: { precision: { type: 'number' }, recall: { type: 'number' }, f1: { type: 'number' } },
} as const;

const stringList = { type: 'array', items: { type: 'string' } } as const;

export const localizationResponseSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['results'],
  properties: {
    results: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['reward', 'file', 'module', 'entity', 'gold', 'format_ok'],
        properties: {
          reward: { type: 'number' },
          file: levelScore,
          module: levelScore,
          entity: levelScore,
          gold: {
            type: 'object',
            additionalProperties: false,
            required: ['files', 'modules', 'entities'],
            properties: { files: stringList, modules: stringList, entities: stringList },
          },
          format_ok: { type: 'boolean' },
        },
      },
    },
  },
} as const;
