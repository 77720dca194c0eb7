// The one error the localization scorer throws for bad input. Lower layers (patch parser, patch
// application) describe the problem alone ("hunk 2 of foo.py does not apply at line 40"); each
// caller on the way up puts its field in front with `within`, so the message the client sees
// names the item and field: `items[3].gold.patch: hunk 2 of foo.py does not apply at line 40`.
import { ERROR_STATUS, type ErrorCode } from '../errors.ts';

/**
 * Stable codes, one per kind of bad input, each with the service's error code it answers as; the
 * HTTP status comes from that code (src/errors.ts's one table).
 */
export const LOCALIZATION_ERROR_CODES = {
  /** The body breaks a rule the JSON schema states (checked again here for direct library use). */
  invalid_body: 'invalid_request',
  /** The unified diff cannot be read: bad header, truncated hunk, counts that do not add up. */
  malformed_patch: 'invalid_request',
  /** A patch or source holds a lone UTF-16 surrogate, which no UTF-8 text can contain. */
  invalid_text: 'invalid_request',
  /** A patch, a source or a prediction is over the size limits in schema.ts. */
  too_large: 'invalid_request',
  /** A hunk's old lines are not found in the original source at any offset after the previous hunk. */
  hunk_mismatch: 'unprocessable',
  /** The patch edits a .py file that existed before, but `files` has no source for it. */
  unknown_file: 'unprocessable',
} as const satisfies Record<string, ErrorCode>;

export type LocalizationErrorCode = keyof typeof LOCALIZATION_ERROR_CODES;

export class LocalizationInputError extends Error {
  /** The service's code the client sees in the body. */
  readonly serviceCode: ErrorCode;
  readonly status: number;

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
    this.serviceCode = LOCALIZATION_ERROR_CODES[code];
    this.status = ERROR_STATUS[this.serviceCode];
  }

  /** The same error seen from the enclosing field: `within('items[3].gold')` of `patch` is `items[3].gold.patch`. */
  within(parent: string): LocalizationInputError {
    const path = this.path ? (this.path.startsWith('[') ? parent + this.path : `${parent}.${this.path}`) : parent;
    return new LocalizationInputError(this.code, this.detail, path);
  }
}
