// The OpenAPI document is generated from the route schemas (@fastify/swagger): each route carries its
// operationId, summary, description, body examples and response descriptions, and this module holds
// what the routes share: the document's header, the bearer scheme and the timing headers (the
// described error answers are in schemas.ts). GET /openapi.json and /openapi.yaml serve the result.
import { readFileSync } from 'node:fs';
import type { SwaggerOptions } from '@fastify/swagger';

/** The service's version, from package.json (two levels above src/http and dist/http alike). */
export const VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

export const swaggerOptions: SwaggerOptions = {
  openapi: {
    openapi: '3.1.0',
    info: {
      title: 'code-reward-service',
      version: VERSION,
      description: [
        'Execution-free rewards for code: the CodeScaler reward model (a Qwen3 sequence classifier run',
        'with ONNX Runtime) behind syntax-aware extraction and validity-preserving shaping, and CodeScout\'s',
        'localization reward. Every error answer is `{"error": message, "code": CODE}`; 503 answers carry',
        'Retry-After. Some come from no route: 404 `not_found`, 405 `method_not_allowed` (with Allow), 400',
        '`invalid_request` for a URL that does not decode, 408 `request_timeout` when a request is not received',
        'within REQUEST_TIMEOUT_MS (the connection is then closed), 431 `headers_too_large`. A 5xx body never',
        'carries an exception\'s text: the service log has it. With API_KEY set, every route but /health, /ready,',
        '/metrics, /docs and the document itself needs `Authorization: Bearer <key>` (the scheme in any case).',
        'A request with an Origin header (a web page\'s) is refused 403 unless CORS_ORIGINS lists the origin.',
        'Request bodies are JSON, sent with `Content-Type: application/json` (415 otherwise).',
      ].join(' '),
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
  },
};

/** For the probes, which answer without the key. */
export const OPEN: [] = [];

/** The headers of every answer that ran the model. */
export const timingHeaders = {
  'x-admission-time': { type: 'string', description: 'Time, in ms, the request waited for room in the queue (ADMISSION_TIMEOUT_MS bounds it).' },
  'x-queue-time': { type: 'string', description: 'Longest wait, in ms, of any item of the request before its batch started.' },
  'x-tokenization-time': { type: 'string', description: 'Extraction, validity, templating and tokenization time of the request, in ms.' },
  'x-inference-time': { type: 'string', description: "Longest model time, in ms, of the batches the request's items ran in." },
} as const;

/** What the document says of a route: its operation fields, and a request example that the contract test sends. */
export interface RouteDocs {
  operationId: string;
  summary: string;
  description?: string;
  example?: unknown;
}

/** The schema fields of a route with a body: its docs, and its example as the body schema's `examples`. */
export function documentedBody<Body extends object>({ example, ...doc }: RouteDocs, body: Body) {
  return { ...doc, body: example === undefined ? body : { ...body, examples: [example] } };
}
