// Unicode 14.0 lookups, the version of CPython 3.11's unicodedata: which
// characters may form an identifier, and which names "\N{...}" accepts.
// CPython's tokenizer checks an identifier's characters as written (XID_Start,
// then XID_Continue); the NFKC normalization of PEP 3131 happens after, when
// the parser makes the name, and never turns a name into a keyword. The
// tables (unicode14.ts) are decoded on first use, so code without non-ASCII
// identifiers or "\N{...}" escapes pays nothing.
import { brotliDecompressSync } from 'node:zlib';
import { CJK_UNIFIED, NAMES_BROTLI, NON_PRINTABLE, XID_CONTINUE, XID_START } from './unicode14.ts';

// [start, end) pairs, sorted.
function decodeRanges(packed: string): Uint32Array {
  const parts = packed.split(',');
  const out = new Uint32Array(parts.length);
  let last = 0;
  for (let k = 0; k < parts.length; k += 2) {
    out[k] = last + parseInt(parts[k], 36);
    out[k + 1] = last = out[k] + parseInt(parts[k + 1], 36);
  }
  return out;
}

function inRanges(ranges: Uint32Array, cp: number): boolean {
  let lo = 0;
  let hi = ranges.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < ranges[2 * mid]) hi = mid - 1;
    else if (cp >= ranges[2 * mid + 1]) lo = mid + 1;
    else return true;
  }
  return false;
}

let xidStart: Uint32Array | undefined;
let xidContinue: Uint32Array | undefined;
let nonPrintable: Uint32Array | undefined;
let cjkUnified: Uint32Array | undefined;
let names: Set<string> | undefined;

/** Unicode 14.0 XID_Start (CPython's _PyUnicode_IsXidStart). */
export function isXidStart(cp: number): boolean {
  return inRanges((xidStart ??= decodeRanges(XID_START)), cp);
}

/** Unicode 14.0 XID_Continue (CPython's _PyUnicode_IsXidContinue). */
export function isXidContinue(cp: number): boolean {
  return inRanges((xidContinue ??= decodeRanges(XID_CONTINUE)), cp);
}

/** Not printable for Python 3.11 (categories Cc, Cf, Cs, Co, Cn, Zl, Zp, Zs; ' ' aside). */
export function isNonPrintable(cp: number): boolean {
  return inRanges((nonPrintable ??= decodeRanges(NON_PRINTABLE)), cp);
}

// Hangul syllable names are composed of the jamo short names (Unicode 3.12).
const JAMO_L = ['G', 'GG', 'N', 'D', 'DD', 'R', 'M', 'B', 'BB', 'S', 'SS', '', 'J', 'JJ', 'C', 'K', 'T', 'P', 'H'];
const JAMO_V = ['A', 'AE', 'YA', 'YAE', 'EO', 'E', 'YEO', 'YE', 'O', 'WA', 'WAE', 'OE', 'YO', 'U', 'WEO', 'WE', 'WI', 'YU', 'EU', 'YI', 'I'];
const JAMO_T = ['', 'G', 'GG', 'GS', 'N', 'NJ', 'NH', 'D', 'L', 'LG', 'LM', 'LB', 'LS', 'LT', 'LP', 'LH', 'M', 'B', 'BS', 'S', 'SS', 'NG', 'J', 'C', 'K', 'T', 'P', 'H'];

// CPython's find_syllable: the longest jamo name of `column` at s[k] (none: length 0).
function syllableLength(s: string, k: number, column: string[]): number {
  let best = 0;
  for (const jamo of column) if (jamo.length > best && s.startsWith(jamo, k)) best = jamo.length;
  return best;
}

/**
 * Whether "\N{name}" decodes, as CPython 3.11's unicode-escape decoder
 * decides (unicodedata's _getcode without named sequences): a character name
 * or alias, compared case-insensitively; "HANGUL SYLLABLE <jamo>" and
 * "CJK UNIFIED IDEOGRAPH-<4 or 5 hex digits>", in upper case only.
 */
export function isCharacterName(name: string): boolean {
  if (name.startsWith('HANGUL SYLLABLE ')) {
    let k = 16;
    k += syllableLength(name, k, JAMO_L);
    const v = syllableLength(name, k, JAMO_V);
    if (v === 0) return false;
    k += v;
    k += syllableLength(name, k, JAMO_T);
    return k === name.length;
  }
  if (name.startsWith('CJK UNIFIED IDEOGRAPH-')) {
    const hex = name.slice(22);
    if (!/^[0-9A-F]{4,5}$/.test(hex)) return false;
    return inRanges((cjkUnified ??= decodeRanges(CJK_UNIFIED)), parseInt(hex, 16));
  }
  // Only ASCII letters are folded (Py_TOUPPER); any other character matches no name.
  if (!/^[\x20-\x7e]+$/.test(name)) return false;
  names ??= new Set(brotliDecompressSync(Buffer.from(NAMES_BROTLI, 'base64')).toString('latin1').split('\n'));
  return names.has(name.toUpperCase());
}
