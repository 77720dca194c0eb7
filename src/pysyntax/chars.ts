// Character classes of CPython's tokenizer, and its check of identifiers.
import { isNonPrintable, isXidContinue, isXidStart } from './unicode.ts';

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
export function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
export function isIdentStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c >= 128;
}
export function isIdentChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c >= 128;
}

/** A code point as CPython's messages write it: U+ and at least four upper-case hex digits. */
export function hex4(cp: number): string {
  return cp.toString(16).toUpperCase().padStart(4, '0');
}

function isPrintableCodePoint(cp: number): boolean {
  return cp === 0x20 || !isNonPrintable(cp);
}

// verify_identifier: the first character must be XID_Start or '_', the rest
// XID_Continue, by Unicode 14.0 (JavaScript's \p{XID_Start} follows a newer
// Unicode); the error names the first offending character.
export function invalidIdentifierChar(src: string, a: number, b: number): { message: string; offset: number } | null {
  let first = true;
  for (let k = a; k < b; ) {
    const cp = src.codePointAt(k)!;
    const ok = first ? cp === 0x5f || isXidStart(cp) : isXidContinue(cp);
    if (!ok) {
      const ch = String.fromCodePoint(cp);
      const message = isPrintableCodePoint(cp)
        ? `invalid character '${ch}' (U+${hex4(cp)})`
        : `invalid non-printable character U+${hex4(cp)}`;
      return { message, offset: k };
    }
    first = false;
    k += cp > 0xffff ? 2 : 1;
  }
  return null;
}
