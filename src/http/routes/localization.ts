// POST /v1/localization: CodeScout's execution-free reward for code search agents, the weighted F1
// of the files, modules and entities an agent names against those a gold patch touches.
// Scored on the prep threads, in slices, so that /health and scoring do not wait behind it.
import type { FastifyInstance } from 'fastify';
import { localizationBodySchema, localizationResponseSchema } from '../../localization/index.ts';
import type { LocalizationBody } from '../../localization/index.ts';
import { clientSignal, type RouteContext } from '../context.ts';
import { documentedBody } from '../openapi.ts';
import { scoringErrorResponses, TOO_MANY_ITEMS } from '../schemas.ts';

const example = {
  items: [{
    locations: [{ file: 'pkg/util.py', class_name: 'Parser', function_name: 'parse' }, { file: 'pkg/cli.py' }],
    gold: {
      patch: '--- a/pkg/util.py\n+++ b/pkg/util.py\n@@ -1,4 +1,4 @@\n class Parser:\n     def parse(self, text):\n-        return text\n+        return text.strip()\n \n',
      files: { 'pkg/util.py': 'class Parser:\n    def parse(self, text):\n        return text\n\n' },
    },
  }],
};

const docs = {
  operationId: 'localization',
  summary: "CodeScout's localization reward, the weighted F1 of named files, modules and entities against a gold patch.",
  description: [
    "Prediction: `locations` (the localization_finish tool's list) or `prediction_text` (the agent's final",
    "turn, whose hermes `<tool_call>` to localization_finish is parsed with CodeScout's format checks; a",
    'failed check gives format_ok false and reward 0). Gold: `file_changes` or a unified `patch` with the',
    "original `files`, mapped to locations with tree-sitter-python by LocAgent's rules. Errors name the item",
    'and field, e.g. `body/items[3].gold.patch: hunk 2 of foo.py does not apply at line 40 (hunk_mismatch)`;',
    'edits to a .py file missing from `files` are a 422.',
  ].join('\n'),
  example,
};

const schema = {
  ...documentedBody(docs, localizationBodySchema),
  response: {
    200: { ...localizationResponseSchema, description: 'One result per item, in input order.' },
    ...scoringErrorResponses,
    422: { ...TOO_MANY_ITEMS, description: 'A hunk does not apply, or the patch edits a .py file missing from `files`.' },
  },
} as const;

export default async function localizationRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  app.post<{ Body: LocalizationBody }>('/v1/localization', { schema }, async (request, reply) => ctx.preparer.localize(request.body, clientSignal(request, reply)));
}
