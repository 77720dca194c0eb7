// Gold location sets, from LocAgent-style `file_changes` or derived from a patch.
//
// From a patch, by LocAgent's rules (util/benchmark/gen_oracle_locations.py): only `.py` files
// count; a file counts under its path before the patch (a renamed file under its old name), and a
// file the patch creates does not count at all, since nothing in it existed to be found. Each
// removed line is looked up in the original file, each added line in the patched file; blank
// lines and lines starting with `#` are skipped, and outline.ts says which location owns the rest
// (none for import statements and class docstrings). A location that the original file does not define (a new method,
// a new function) is "added": it is reported apart and not scored.
import { applyPatch, joinLines, type AppliedPatch } from './apply.ts';
import { LocalizationInputError } from './errors.ts';
import { outlinePython } from './outline.ts';
import { parsePatch, type FilePatch } from './patch.ts';
import { LOCALIZATION_LIMITS } from './schema.ts';
import { hasLoneSurrogate, pyStrip } from './text.ts';
import type { FileChange, LocationSets } from './types.ts';

export interface PatchGold extends LocationSets {
  /** `path:Class.method` / `path:func` that only the patched files define; not scored. */
  added: string[];
}

function sorted(set: Set<string>): string[] {
  return [...set].sort();
}

export function goldFromFileChanges(changes: readonly FileChange[]): LocationSets {
  const files = new Set<string>();
  const modules = new Set<string>();
  const entities = new Set<string>();
  for (const { file, changes: c } of changes) {
    files.add(file);
    for (const m of c?.edited_modules ?? []) modules.add(m);
    for (const e of c?.edited_entities ?? []) entities.add(e);
  }
  return { files: sorted(files), modules: sorted(modules), entities: sorted(entities) };
}

function checkText(field: string, text: string, limit: number): void {
  if (text.length > limit) {
    throw new LocalizationInputError('too_large', `${text.length} characters, more than the limit of ${limit}`, field);
  }
  if (hasLoneSurrogate(text)) {
    throw new LocalizationInputError('invalid_text', 'holds a lone UTF-16 surrogate, which no UTF-8 text can', field);
  }
}

/** A line LocAgent skips before asking which location owns it. */
function skipped(text: string): boolean {
  const s = pyStrip(text);
  return s === '' || s.startsWith('#');
}

/** Locations (`Class.method` / `func`) that the removed and added lines of one file touch. */
function editedLocations(source: string, applied: AppliedPatch): { edited: Set<string>; added: Set<string> } {
  const edited = new Set<string>();
  const added = new Set<string>();
  const removedRows = applied.removedRows.filter((row) => !skipped(applied.original.lines[row]));
  const addedRows = applied.addedRows.filter((row) => !skipped(applied.patched.lines[row]));
  const before = outlinePython(source);
  before.prefetch(removedRows);
  for (const row of removedRows) {
    const loc = before.locationAt(row);
    if (loc) edited.add(loc);
  }
  if (!addedRows.length) return { edited, added };
  const after = outlinePython(joinLines(applied.patched));
  after.prefetch(addedRows);
  const touched = new Set<string>();
  for (const row of addedRows) {
    const loc = after.locationAt(row);
    if (loc) touched.add(loc);
  }
  before.prefetch([], touched);
  for (const loc of touched) (before.defines(loc) ? edited : added).add(loc);
  return { edited, added };
}

export function goldFromPatch(patch: string, files: Readonly<Record<string, string>>): PatchGold {
  checkText('patch', patch, LOCALIZATION_LIMITS.patch);
  const paths = Object.keys(files);
  if (paths.length > LOCALIZATION_LIMITS.files) {
    throw new LocalizationInputError('too_large', `${paths.length} entries, more than the limit of ${LOCALIZATION_LIMITS.files}`, 'files');
  }
  let total = 0;
  for (const p of paths) total += files[p].length;
  if (total > LOCALIZATION_LIMITS.sourcesPerItem) {
    throw new LocalizationInputError('too_large', `${total} characters in all, more than the limit of ${LOCALIZATION_LIMITS.sourcesPerItem}`, 'files');
  }
  try {
    return mapPatch(parsePatch(patch), files);
  } catch (err) {
    throw err instanceof LocalizationInputError && err.path === undefined ? err.within('patch') : err;
  }
}

function mapPatch(filePatches: readonly FilePatch[], files: Readonly<Record<string, string>>): PatchGold {
  const goldFiles = new Set<string>();
  const modules = new Set<string>();
  const entities = new Set<string>();
  const addedEntities = new Set<string>();
  for (const filePatch of filePatches) {
    const path = filePatch.oldPath;
    if (path === null || !path.endsWith('.py')) continue;
    if (goldFiles.has(path)) throw new LocalizationInputError('malformed_patch', `${path} appears twice in the patch`);
    if (!Object.hasOwn(files, path)) {
      throw new LocalizationInputError('unknown_file', `edits ${path}, which is not in files`);
    }
    if (filePatch.binary) throw new LocalizationInputError('malformed_patch', `the diff of ${path} is binary`);
    checkText(`files[${JSON.stringify(path)}]`, files[path], LOCALIZATION_LIMITS.source);
    goldFiles.add(path);
    const { edited, added } = editedLocations(files[path], applyPatch(files[path], filePatch, path));
    for (const loc of edited) {
      const dot = loc.indexOf('.');
      modules.add(`${path}:${dot < 0 ? loc : loc.slice(0, dot)}`);
      entities.add(`${path}:${loc}`);
    }
    for (const loc of added) addedEntities.add(`${path}:${loc}`);
  }
  return { files: sorted(goldFiles), modules: sorted(modules), entities: sorted(entities), added: sorted(addedEntities) };
}
