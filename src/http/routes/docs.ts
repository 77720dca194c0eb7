// The contract and its reader: GET /openapi.yaml serves openapi.yaml as it is in the repository, and
// GET /docs a self-contained page (no CDN: the service may run offline) that renders it and can send
// requests. The plugin also records every route with its schema as it is added, so that the contract
// test can compare what is served with what is documented.
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { parse } from 'yaml';
import { errorSchema } from '../schemas.ts';

// Both from the repository root, which is three levels up from src/http/routes and dist/http/routes alike.
export const OPENAPI_PATH = new URL('../../../openapi.yaml', import.meta.url);
const PAGE_PATH = new URL('../../../src/http/routes/docs.html', import.meta.url);

const rootSchema = {
  type: 'object',
  required: ['service', 'docs', 'openapi', 'routes'],
  properties: {
    service: { type: 'string' },
    docs: { type: 'string' },
    openapi: { type: 'string' },
    routes: { type: 'array', items: { type: 'string' } },
  },
} as const;

export interface RouteRecord {
  method: string;
  url: string;
  schema?: FastifySchema;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route of the app as added, with its schema (HEAD twins of GET routes included). */
    routeCatalog: RouteRecord[];
  }
}

async function docsRoutes(app: FastifyInstance): Promise<void> {
  const catalog: RouteRecord[] = [];
  app.decorate('routeCatalog', catalog);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) catalog.push({ method, url: route.url, schema: route.schema });
  });

  const yamlText = readFileSync(OPENAPI_PATH, 'utf8');
  // The spec goes into the page as JSON inside a <script>: "</" must not close it early.
  const specJson = JSON.stringify(parse(yamlText)).replaceAll('</', '<\\/');
  const page = readFileSync(PAGE_PATH, 'utf8').replace('/*SPEC*/null', () => specJson);

  // Open without the key (src/http/auth.ts): the page asks for it, and its calls send it.
  app.get('/openapi.yaml', async (_request, reply) => reply.type('application/yaml; charset=utf-8').send(yamlText));
  app.get('/docs', async (_request, reply) => reply.type('text/html; charset=utf-8').send(page));
  // Where a newcomer lands first (curl localhost:8080): what this is and where to read on.
  app.get('/', { schema: { response: { 200: rootSchema, 401: errorSchema } } }, async () => ({
    service: 'code-reward-service',
    docs: '/docs',
    openapi: '/openapi.yaml',
    routes: catalog.filter((r) => r.method !== 'HEAD').map((r) => `${r.method} ${r.url}`),
  }));
}

// Registered first and not encapsulated (what fastify-plugin does), so the onRoute hook sees the
// routes of every plugin registered after it.
(docsRoutes as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;

export default docsRoutes;
