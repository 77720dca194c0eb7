// The contract and its reader. The OpenAPI document is generated from the route schemas
// (@fastify/swagger, set up in openapi.ts): GET /openapi.json and /openapi.yaml serve it, and GET
// /docs a self-contained page (no CDN: the service may run offline) that renders it and can send
// requests. GET / lists the routes the document holds.
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { OPEN } from '../openapi.ts';
import { UNAUTHORIZED } from '../schemas.ts';

// From the repository root, which is three levels up from src/http/routes and dist/http/routes alike.
const PAGE_PATH = new URL('../../../src/http/routes/docs.html', import.meta.url);

const rootSchema = {
  type: 'object',
  description: "The service's name, where to read on, and every route as \"METHOD path\".",
  required: ['service', 'docs', 'openapi', 'routes'],
  properties: {
    service: { type: 'string' },
    docs: { type: 'string', description: 'The API reference page.' },
    openapi: { type: 'string', description: 'This document.' },
    routes: { type: 'array', items: { type: 'string' } },
  },
} as const;

const text = (type: string, description: string) => ({ description, content: { [type]: { schema: { type: 'string' } } } });

export default async function docsRoutes(app: FastifyInstance): Promise<void> {
  const template = readFileSync(PAGE_PATH, 'utf8');
  // Made on first use: by then every route is registered.
  let document: { json: Record<string, any>; yaml: string; page: string; routes: string[] } | undefined;
  const generated = () => {
    if (document) return document;
    const json = app.swagger() as Record<string, any>;
    // The spec goes into the page as JSON inside a <script>: "</" must not close it early.
    const page = template.replace('/*SPEC*/null', () => JSON.stringify(json).replaceAll('</', '<\\/'));
    const routes = Object.entries(json.paths as Record<string, object>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    return (document = { json, yaml: app.swagger({ yaml: true }), page, routes });
  };

  app.get('/openapi.json', {
    schema: { operationId: 'openapiJson', summary: 'This document, as JSON.', security: OPEN, response: { 200: text('application/json', 'OpenAPI 3.1.') } },
  }, async (_request, reply) => reply.type('application/json; charset=utf-8').send(JSON.stringify(generated().json)));
  app.get('/openapi.yaml', {
    schema: { operationId: 'openapiYaml', summary: 'This document, as YAML.', security: OPEN, response: { 200: text('application/yaml', 'OpenAPI 3.1.') } },
  }, async (_request, reply) => reply.type('application/yaml; charset=utf-8').send(generated().yaml));
  app.get('/docs', {
    schema: {
      operationId: 'docs',
      summary: 'A self-contained page that renders this document and sends requests (works offline).',
      description: 'Open without the key: the page asks for it, and every call it sends carries it.',
      security: OPEN,
      response: { 200: text('text/html', 'HTML.') },
    },
  }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(generated().page));
  // Where a newcomer lands first (curl localhost:8080): what this is and where to read on.
  app.get('/', {
    schema: { operationId: 'root', summary: 'What this service is and where its reference lives (/docs), with the list of routes.', response: { 200: rootSchema, 401: UNAUTHORIZED } },
  }, async () => ({ service: 'code-reward-service', docs: '/docs', openapi: '/openapi.yaml', routes: generated().routes }));
}
