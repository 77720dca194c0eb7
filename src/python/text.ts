// Text rules that must agree with Python's: the upstream rules are Python `str.strip()` calls, and
// Python source and patches are UTF-8, which a lone UTF-16 surrogate cannot come from.

// Python's str.isspace() / str.strip() whitespace (Py_UNICODE_ISSPACE), one code point. It differs from
// String.prototype.trim: Python strips \x1c-\x1f and \x85, JS strips \ufeff.
export function isPySpaceCode(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
  if (c < 0x85) return false;
  return (
    c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000
  );
}

/** Python's str.strip() with no arguments. */
export function pyStrip(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isPySpaceCode(s.charCodeAt(a))) a++;
  while (b > a && isPySpaceCode(s.charCodeAt(b - 1))) b--;
  return s.slice(a, b);
}

/** A UTF-16 surrogate without its pair; `exec` gives the first one's index. */
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The string holds a UTF-16 surrogate without its pair: it cannot have come from UTF-8 text. */
export function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}
