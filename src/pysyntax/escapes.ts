// The escape sequences CPython decodes in a string literal, and the errors
// of its decoders: "unicodeescape" for str literals (with "\\N{name}" looked
// up in Unicode 14.0's names and aliases) and bytes' own for bytes literals.

import { isCharacterName } from './unicode.ts';

const HEX = /^[0-9a-fA-F]$/;

function isHexAt(src: string, k: number, end: number): boolean {
  return k < end && HEX.test(src[k]);
}

// The next backslash in [k, b), or -1; bounded, so many short literals on one
// long line stay linear.
function nextBackslash(src: string, k: number, b: number): number {
  for (; k < b; k++) if (src.charCodeAt(k) === 0x5c) return k;
  return -1;
}

/**
 * The unicode-escape decoder's errors for a non-raw str segment [a, b), or
 * null. "\N{name}" names are looked up in Unicode 14.0's names and aliases.
 */
export function unicodeEscapeError(src: string, a: number, b: number): string | null {
  for (let k = nextBackslash(src, a, b); k >= 0; k = nextBackslash(src, k, b)) {
    const c = src[k + 1];
    const pos = k - a;
    if (k + 1 >= b) return null;
    if (c === 'x' || c === 'u' || c === 'U') {
      const digits = c === 'x' ? 2 : c === 'u' ? 4 : 8;
      let d = 0;
      while (d < digits && isHexAt(src, k + 2 + d, b)) d++;
      if (d < digits) {
        const what = c === 'x' ? '\\xXX' : c === 'u' ? '\\uXXXX' : '\\UXXXXXXXX';
        return `(unicode error) 'unicodeescape' codec can't decode bytes in position ${pos}-${pos + 1 + d}: truncated ${what} escape`;
      }
      if (c === 'U' && parseInt(src.slice(k + 2, k + 10), 16) > 0x10ffff) {
        return `(unicode error) 'unicodeescape' codec can't decode bytes in position ${pos}-${pos + 9}: illegal Unicode character`;
      }
      k += 2 + digits;
    } else if (c === 'N') {
      let close = -1;
      if (src[k + 2] === '{') for (let j = k + 3; j < b && close < 0; j++) if (src.charCodeAt(j) === 0x7d) close = j;
      if (close < 0 || close === k + 3) {
        return `(unicode error) 'unicodeescape' codec can't decode bytes in position ${pos}-${pos + 1}: malformed \\N character escape`;
      }
      if (!isCharacterName(src.slice(k + 3, close))) {
        return `(unicode error) 'unicodeescape' codec can't decode bytes in position ${pos}-${pos + close - k}: unknown Unicode character name`;
      }
      k = close + 1;
    } else {
      k += 2;
    }
  }
  return null;
}

export function bytesEscapeError(src: string, a: number, b: number): string | null {
  for (let k = nextBackslash(src, a, b); k >= 0; k = nextBackslash(src, k, b)) {
    if (src[k + 1] === 'x' && !(isHexAt(src, k + 2, b) && isHexAt(src, k + 3, b))) {
      return `(value error) invalid \\x escape at position ${k - a}`;
    }
    k += 2;
  }
  return null;
}
