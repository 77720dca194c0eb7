// The one error the localization scorer throws for bad input. Lower layers (patch parser, patch
// application) describe the problem alone ("hunk 2 of foo.py does not apply at line 40"); each
// caller on the way up puts its field in front with `within`, so the message the client sees
// names the item and field: `items[3].gold.patch: hunk 2 of foo.py does not apply at line 40`.

/** Stable codes, one per kind of bad input, with the HTTP status each one answers with. */
export const LOCALIZATION_ERROR_STATUS = {
  /** The body breaks a rule the JSON schema states (checked again here for direct library use). */
  invalid_body: 400,
  /** The unified diff cannot be read: bad header, truncated hunk, counts that do not add up. */
  malformed_patch: 400,
  /** A patch or source holds a lone UTF-16 surrogate, which no UTF-8 text can contain. */
  invalid_text: 400,
  /** A patch, a source or a prediction is over the size limits in schema.ts. */
  too_large: 400,
  /** A hunk's old lines are not found in the original source at any offset after the previous hunk. */
  hunk_mismatch: 422,
  /** The patch edits a .py file that existed before, but `files` has no source for it. */
  unknown_file: 422,
} as const;

export type LocalizationErrorCode = keyof typeof LOCALIZATION_ERROR_STATUS;

export class LocalizationInputError extends Error {
  readonly status: 400 | 422;

  /**
   * @param detail what is wrong, without the place
   * @param path the field it is wrong in, relative to the caller (`patch`, `files["a.py"]`)
   */
  constructor(
    readonly code: LocalizationErrorCode,
    readonly detail: string,
    readonly path?: string,
  ) {
    super(path ? `${path}: ${detail}` : detail);
    this.name = 'LocalizationInputError';
    this.status = LOCALIZATION_ERROR_STATUS[code];
  }

  /** The same error seen from the enclosing field: `within('items[3].gold')` of `patch` is `items[3].gold.patch`. */
  within(parent: string): LocalizationInputError {
    const path = this.path ? (this.path.startsWith('[') ? parent + this.path : `${parent}.${this.path}`) : parent;
    return new LocalizationInputError(this.code, this.detail, path);
  }
}
