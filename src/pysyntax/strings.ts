// What CPython 3.11 checks inside a string literal token once the tokenizer
// has delimited it (Parser/string_parser.c): bytes must be ASCII, escapes
// must decode (escapes.ts), and f-strings follow the 3.11 rules (fstrings.ts).

import { bytesEscapeError, unicodeEscapeError } from './escapes.ts';
import { FStringScanner, type FStringExpr } from './fstrings.ts';

export interface StringCheck {
  bytes: boolean;
  error: { message: string; offset: number; line: number } | null;
  /** An f-string's body [start, end): checked here, its expressions by the caller. */
  fstringBody?: [number, number];
}

function failed(bytes: boolean, message: string, offset: number, line: number): StringCheck {
  return { bytes, error: { message, offset, line } };
}

/** Checks the STRING token src[start, end) that begins on `line`. */
export function checkStringToken(src: string, start: number, end: number, line: number, exprs: FStringExpr[]): StringCheck {
  let bytes = false;
  let raw = false;
  let fmode = false;
  let q = start;
  for (;; q++) {
    const c = src[q];
    if (c === 'b' || c === 'B') bytes = true;
    else if (c === 'r' || c === 'R') raw = true;
    else if (c === 'f' || c === 'F') fmode = true;
    else if (c !== 'u' && c !== 'U') break;
  }
  const triple = end - q >= 6 && src[q + 1] === src[q] && src[q + 2] === src[q];
  const bodyStart = q + (triple ? 3 : 1);
  const bodyEnd = end - (triple ? 3 : 1);

  if (bytes) {
    for (let k = bodyStart; k < bodyEnd; k++) {
      if (src.charCodeAt(k) >= 0x80) return failed(bytes, 'bytes can only contain ASCII literal characters', start, line);
    }
    const err = raw ? null : bytesEscapeError(src, bodyStart, bodyEnd);
    return err ? failed(bytes, err, start, line) : { bytes, error: null };
  }
  if (!fmode) {
    const err = raw ? null : unicodeEscapeError(src, bodyStart, bodyEnd);
    return err ? failed(bytes, err, start, line) : { bytes, error: null };
  }
  const err = new FStringScanner(src, bodyEnd, raw, line, start, exprs).scan(bodyStart);
  return err ? failed(bytes, err.message, err.offset, err.line) : { bytes, error: null, fstringBody: [bodyStart, bodyEnd] };
}
