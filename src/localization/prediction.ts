// The predicted location sets, built from `localization_finish` entries exactly as CodeScout does:
//   file                          -> files
//   file:Class, else file:func    -> modules   (a class-only entry adds a module, no entity)
//   file:Class.func, else file:func -> entities
// Empty strings count as absent, like Python's truthiness. One entry whose file is empty or blank
// voids the whole prediction. Paths compare as exact strings; duplicates collapse.
import { pyStrip } from './text.ts';
import type { CodeLocation, LocationSets } from './types.ts';

export function predictionSets(locations: readonly CodeLocation[]): LocationSets {
  const files = new Set<string>();
  const modules = new Set<string>();
  const entities = new Set<string>();
  for (const { file, class_name: cls, function_name: fn } of locations) {
    if (pyStrip(file) === '') return { files: [], modules: [], entities: [] };
    files.add(file);
    if (cls) modules.add(`${file}:${cls}`);
    else if (fn) modules.add(`${file}:${fn}`);
    if (cls && fn) entities.add(`${file}:${cls}.${fn}`);
    else if (fn) entities.add(`${file}:${fn}`);
  }
  return { files: [...files].sort(), modules: [...modules].sort(), entities: [...entities].sort() };
}
