// CodeScout's localization reward: per-level F1 of predicted against gold locations (file,
// module, entity), summed with the request's weights. The body is expected to have passed
// localizationBodySchema; the checks here repeat only what keeps direct library calls from
// failing with anything but LocalizationInputError.
import { LocalizationInputError } from './errors.ts';
import { f1 } from './f1.ts';
import { parseFinishCall } from './finish-call.ts';
import { goldFromFileChanges, goldFromPatch } from './gold.ts';
import { isObject } from './json.ts';
import { predictionSets } from './prediction.ts';
import { LOCALIZATION_LIMITS } from './schema.ts';
import type {
  CodeLocation, Gold, LocalizationBody, LocalizationItem, LocalizationResponse, LocalizationResult, LocationSets,
} from './types.ts';

export { LocalizationInputError } from './errors.ts';
export { f1 } from './f1.ts';
export { parseFinishCall } from './finish-call.ts';
export { goldFromFileChanges, goldFromPatch } from './gold.ts';
export { applyPatch } from './apply.ts';
export { parsePatch } from './patch.ts';
export { predictionSets } from './prediction.ts';
export { localizationBodySchema, localizationResponseSchema, LOCALIZATION_LIMITS } from './schema.ts';
export type * from './types.ts';

const LEVELS = ['file', 'module', 'entity'] as const;

function invalid(path: string, detail: string): LocalizationInputError {
  return new LocalizationInputError('invalid_body', detail, path);
}

function checkLocations(path: string, v: unknown): asserts v is CodeLocation[] {
  if (!Array.isArray(v)) throw invalid(path, 'must be an array');
  if (v.length > LOCALIZATION_LIMITS.locations) {
    throw new LocalizationInputError('too_large', `${v.length} entries, more than the limit of ${LOCALIZATION_LIMITS.locations}`, path);
  }
  v.forEach((loc, j) => {
    const ok = isObject(loc) && typeof loc.file === 'string'
      && [loc.class_name, loc.function_name].every((n) => n === undefined || n === null || typeof n === 'string');
    if (!ok) throw invalid(`${path}[${j}]`, 'must be {file: string, class_name?: string|null, function_name?: string|null}');
  });
}

function checkGold(path: string, gold: unknown): asserts gold is Gold {
  if (!isObject(gold)) throw invalid(path, 'must be an object');
  if ('file_changes' in gold) {
    const changes = gold.file_changes;
    const names = (l: unknown) => l === undefined || l === null || (Array.isArray(l) && l.every((x) => typeof x === 'string'));
    const ok = Array.isArray(changes) && !('patch' in gold) && changes.every((c) =>
      isObject(c) && typeof c.file === 'string'
      && (c.changes === undefined || (isObject(c.changes) && names(c.changes.edited_modules) && names(c.changes.edited_entities))));
    if (!ok) throw invalid(path, 'file_changes must be a list of {file, changes?: {edited_modules?, edited_entities?}} and come alone');
    return;
  }
  const { patch, files } = gold;
  if (typeof patch !== 'string' || !isObject(files) || !Object.values(files).every((s) => typeof s === 'string')) {
    throw invalid(path, 'must hold file_changes, or patch (a string) and files (path to source)');
  }
}

function readWeights(body: LocalizationBody): LocalizationWeights {
  const w = body.weights ?? {};
  if (!isObject(w)) throw invalid('weights', 'must be an object');
  const out = { file: 1, module: 1, entity: 1 };
  for (const level of LEVELS) {
    const v = w[level] ?? 1;
    if (typeof v !== 'number' || !(v >= 0 && v <= 3)) throw invalid(`weights.${level}`, 'must be a number from 0 to 3');
    out[level] = v;
  }
  return out;
}

/**
 * Gold sets for the items of one slice of a request. The rollouts of one task carry the same patch
 * and sources, so a patch gold is derived once per distinct (patch, files) in the slice and shared.
 */
class GoldCache {
  private readonly byPatch = new Map<string, { files: Record<string, string>; sets: LocationSets }[]>();

  get(gold: Gold): LocationSets {
    if ('file_changes' in gold) return goldFromFileChanges(gold.file_changes);
    const seen = this.byPatch.get(gold.patch) ?? [];
    let hit = seen.find((e) => sameFiles(e.files, gold.files));
    if (!hit) {
      const { files, modules, entities } = goldFromPatch(gold.patch, gold.files);
      seen.push((hit = { files: gold.files, sets: { files, modules, entities } }));
      this.byPatch.set(gold.patch, seen);
    }
    const { files, modules, entities } = hit.sets;
    return { files: [...files], modules: [...modules], entities: [...entities] };
  }
}

function sameFiles(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

function scoreItem(
  item: LocalizationItem, path: string, weights: LocalizationWeights, golds: GoldCache,
): LocalizationResult {
  if (!isObject(item)) throw invalid(path, 'must be an object');
  const hasText = item.prediction_text !== undefined;
  if (hasText === (item.locations !== undefined)) throw invalid(path, 'needs exactly one of locations and prediction_text');
  let locations: CodeLocation[] = [];
  let formatOk = true;
  if (hasText) {
    const text = item.prediction_text;
    if (typeof text !== 'string') throw invalid(`${path}.prediction_text`, 'must be a string');
    if (text.length > LOCALIZATION_LIMITS.predictionText) {
      throw new LocalizationInputError('too_large', `${text.length} characters, more than the limit of ${LOCALIZATION_LIMITS.predictionText}`, `${path}.prediction_text`);
    }
    const call = parseFinishCall(text);
    formatOk = call.ok;
    if (call.ok) locations = call.locations;
  } else {
    checkLocations(`${path}.locations`, item.locations);
    locations = item.locations;
  }
  checkGold(`${path}.gold`, item.gold);
  let gold: LocationSets;
  try {
    gold = golds.get(item.gold);
  } catch (err) {
    throw err instanceof LocalizationInputError ? err.within(`${path}.gold`) : err;
  }

  const pred = predictionSets(locations);
  const file = f1(pred.files, gold.files);
  const module = f1(pred.modules, gold.modules);
  const entity = f1(pred.entities, gold.entities);
  // A failed format check left the prediction empty, so every level and the reward are 0.
  const reward = file.f1 * weights.file + module.f1 * weights.module + entity.f1 * weights.entity;
  return { reward, file, module, entity, gold, format_ok: formatOk };
}

/** The weight of each level in the reward. */
export type LocalizationWeights = Record<(typeof LEVELS)[number], number>;

/**
 * The checks on the body as a whole (items present and within the limit, weights), made before
 * any item is scored; returns the weights the items are scored with.
 */
export function checkLocalizationBody(body: LocalizationBody): LocalizationWeights {
  if (!isObject(body) || !Array.isArray(body.items) || body.items.length === 0) {
    throw invalid('items', 'must be a non-empty array');
  }
  if (body.items.length > LOCALIZATION_LIMITS.items) {
    throw new LocalizationInputError('too_large', `${body.items.length} items, more than the limit of ${LOCALIZATION_LIMITS.items}`, 'items');
  }
  return readWeights(body);
}

/**
 * Scores a run of a request's items that starts at `items[offset]`, so that a request can be
 * scored in slices; an error names its item by its index in the whole request.
 */
export function scoreLocalizationItems(items: readonly LocalizationItem[], offset: number, weights: LocalizationWeights): LocalizationResult[] {
  const golds = new GoldCache();
  return items.map((item, k) => scoreItem(item, `items[${offset + k}]`, weights, golds));
}

export function scoreLocalization(body: LocalizationBody): LocalizationResponse {
  const weights = checkLocalizationBody(body);
  return { results: scoreLocalizationItems(body.items, 0, weights) };
}
