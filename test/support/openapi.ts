// The OpenAPI document as the app generates it from its route schemas and serves it at /openapi.json.
import type { RewardApp } from '../../src/app.ts';
import { fakeApp } from './app.ts';

export type Spec = Record<string, any>;

/** The document served by a running app, or by a fake-model app made and closed for the purpose. */
export async function openapiDocument(service?: RewardApp): Promise<Spec> {
  const own = service ?? (await fakeApp());
  try {
    const res = await own.app.inject({ method: 'GET', url: '/openapi.json' });
    if (res.statusCode !== 200) throw new Error(`GET /openapi.json: ${res.statusCode} ${res.body}`);
    return res.json();
  } finally {
    if (!service) await own.shutdown();
  }
}
