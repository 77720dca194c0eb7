// Python's str semantics (CPython 3.11), and jinja2's title filter, for the chat-template runtime
// (python-jinja.ts). Python strings are sequences of code points, so everything below walks code
// points (Array.from), never UTF-16 units.

import { isPySpaceCode } from '../python/text.ts';

/** str.isspace() of one code point. */
const isPySpace = (c: string): boolean => isPySpaceCode(c.codePointAt(0)!);

/** str.strip / lstrip / rstrip: `chars` None strips white space, otherwise any of its code points. */
export function pyStrip(s: string, chars: string | null, left = true, right = true): string {
  const cps = Array.from(s);
  const drop = chars === null ? isPySpace : (c: string) => Array.from(chars).includes(c);
  let start = 0;
  let end = cps.length;
  if (left) while (start < end && drop(cps[start])) start++;
  if (right) while (end > start && drop(cps[end - 1])) end--;
  return cps.slice(start, end).join('');
}

/** str.split(sep=None, maxsplit=-1). */
export function pySplit(s: string, sep: string | null, maxsplit: number): string[] {
  const limit = maxsplit < 0 ? Infinity : maxsplit;
  if (sep !== null) {
    if (sep === '') throw new Error('ValueError: empty separator');
    const parts: string[] = [];
    let from = 0;
    for (let at = s.indexOf(sep); at !== -1 && parts.length < limit; at = s.indexOf(sep, from)) {
      parts.push(s.slice(from, at));
      from = at + sep.length;
    }
    parts.push(s.slice(from));
    return parts;
  }
  // Runs of white space separate; none at either end yields an empty field. After maxsplit splits
  // the rest is one field, its leading white space dropped and its trailing white space kept.
  const cps = Array.from(s);
  const parts: string[] = [];
  let i = 0;
  for (;;) {
    while (i < cps.length && isPySpace(cps[i])) i++;
    if (i === cps.length) break;
    if (parts.length === limit) {
      parts.push(cps.slice(i).join(''));
      break;
    }
    let j = i;
    while (j < cps.length && !isPySpace(cps[j])) j++;
    parts.push(cps.slice(i, j).join(''));
    i = j;
  }
  return parts;
}

/** str.replace(old, new, count=-1); an empty `old` matches before every code point and at the end. */
export function pyReplace(s: string, old: string, replacement: string, count: number): string {
  const limit = count < 0 ? Infinity : count;
  if (old === '') {
    const cps = Array.from(s);
    let out = '';
    let done = 0;
    for (const c of cps) {
      if (done < limit) {
        out += replacement;
        done++;
      }
      out += c;
    }
    return done < limit ? out + replacement : out;
  }
  let out = '';
  let from = 0;
  let done = 0;
  for (let at = s.indexOf(old); at !== -1 && done < limit; at = s.indexOf(old, from)) {
    out += s.slice(from, at) + replacement;
    from = at + old.length;
    done++;
  }
  return out + s.slice(from);
}

const CASED = /^\p{Cased}$/u;
/** Title-case forms that differ from the upper-case one: the Latin digraphs (U+01C4-U+01CC, U+01F1-U+01F3). */
const TITLECASE: Record<string, string> = {
  '\u01c4': '\u01c5', '\u01c5': '\u01c5', '\u01c6': '\u01c5', '\u01c7': '\u01c8', '\u01c8': '\u01c8', '\u01c9': '\u01c8',
  '\u01ca': '\u01cb', '\u01cb': '\u01cb', '\u01cc': '\u01cb', '\u01f1': '\u01f2', '\u01f2': '\u01f2', '\u01f3': '\u01f2',
};
/** Unicode title case of one code point: the upper-case mapping with all but its first letter lowered (ß → Ss, ﬁ → Fi). */
function toTitle(c: string): string {
  if (TITLECASE[c] !== undefined) return TITLECASE[c];
  const upper = Array.from(c.toUpperCase());
  return upper[0] + upper.slice(1).join('').toLowerCase();
}

const CASE_IGNORABLE = /^\p{Case_Ignorable}$/u;
/**
 * Lower case of cps[i] in its context: a capital sigma becomes final ς when a cased letter precedes
 * it and none follows (case-ignorable code points skipped), as CPython's lower/title/capitalize do.
 */
function lowerAt(cps: string[], i: number): string {
  if (cps[i] !== '\u03a3') return cps[i].toLowerCase();
  const casedBeside = (step: number): boolean => {
    for (let j = i + step; j >= 0 && j < cps.length; j += step) {
      if (!CASE_IGNORABLE.test(cps[j])) return CASED.test(cps[j]);
    }
    return false;
  };
  return casedBeside(-1) && !casedBeside(1) ? '\u03c2' : '\u03c3';
}

/** str.title(): a cased character after an uncased one is title-cased, any other lower-cased. */
export function pyTitle(s: string): string {
  const cps = Array.from(s);
  let out = '';
  let previousCased = false;
  cps.forEach((c, i) => {
    out += previousCased ? lowerAt(cps, i) : toTitle(c);
    previousCased = CASED.test(c);
  });
  return out;
}

/** str.capitalize() (Python 3.8+): the first code point title-cased, the rest lower-cased. */
export function pyCapitalize(s: string): string {
  const cps = Array.from(s);
  return cps.map((c, i) => (i === 0 ? toTitle(c) : lowerAt(cps, i))).join('');
}

/** jinja2's `title` filter (not str.title): each word after - ( { [ < or white space gets item[0].upper(). */
export function jinjaTitleFilter(s: string): string {
  // CPython's \s in a str pattern is str.isspace(); the class below lists the same code points.
  const parts = s.split(/([-\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000({[<]+)/u);
  return parts.filter((p) => p !== '').map((p) => {
    const [first, ...rest] = Array.from(p);
    return first.toUpperCase() + rest.join('').toLowerCase();
  }).join('');
}
