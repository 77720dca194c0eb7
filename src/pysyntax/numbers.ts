// Number literals as CPython 3.11's tokenizer scans them (tok_get's number
// branch, tok_decimal_tail, verify_end_of_number), with its messages.
import { isDigit, isHex, isIdentChar } from './chars.ts';

type Radix = 'hexadecimal' | 'octal' | 'binary' | 'decimal' | 'imaginary';

/** Scans the number literals of one source; a failed scan leaves CPython's message and offset. */
export class NumberScanner {
  message = '';
  offset = 0;

  constructor(private readonly src: string) {}

  /** The end of the number starting at k (fromDot: at a '.' followed by a digit), or -1. */
  scan(k: number, fromDot: boolean): number {
    if (fromDot) return this.fraction(k + 1, k);
    if (this.at(k) === 0x30) return this.fromZero(k);
    const e = this.decimalTail(k);
    if (e < 0) return this.bad('invalid decimal literal', k);
    if (this.at(e) === 0x2e) return this.fraction(e + 1, k);
    return this.exponentAndImag(e);
  }

  private at(k: number): number {
    return k < this.src.length ? this.src.charCodeAt(k) : -1;
  }

  private bad(message: string, offset: number): number {
    this.message = message;
    this.offset = offset;
    return -1;
  }

  // tok_decimal_tail: the index after the digits, or -1 on a misplaced '_'.
  private decimalTail(k: number): number {
    for (;;) {
      while (isDigit(this.at(k))) k++;
      if (this.at(k) !== 0x5f) return k;
      k++;
      if (!isDigit(this.at(k))) return -1;
    }
  }

  // verify_end_of_number: a number glued to a name is an error, except for
  // the keywords that may follow a number in valid code (a deprecation warning).
  private endOfNumberOk(k: number): boolean {
    const c = this.at(k);
    let r = false;
    if (c === 0x61) r = this.lookahead(k + 1, 'nd');
    else if (c === 0x65) r = this.lookahead(k + 1, 'lse');
    else if (c === 0x66) r = this.lookahead(k + 1, 'or');
    else if (c === 0x69) { const c2 = this.at(k + 1); r = c2 === 0x66 || c2 === 0x6e || c2 === 0x73; }
    else if (c === 0x6f) r = this.lookahead(k + 1, 'r');
    else if (c === 0x6e) r = this.lookahead(k + 1, 'ot');
    return r || !isIdentChar(c);
  }

  private lookahead(k: number, word: string): boolean {
    for (let j = 0; j < word.length; j++) if (this.at(k + j) !== word.charCodeAt(j)) return false;
    return !isIdentChar(this.at(k + word.length));
  }

  private finish(e: number, kind: Radix): number {
    return this.endOfNumberOk(e) ? e : this.bad(`invalid ${kind} literal`, e);
  }

  private exponentAndImag(e: number): number {
    let c = this.at(e);
    if (c === 0x65 || c === 0x45) {
      let m = e + 1;
      c = this.at(m);
      if (c === 0x2b || c === 0x2d) {
        m++;
        if (!isDigit(this.at(m))) return this.bad('invalid decimal literal', m);
      } else if (!isDigit(c)) {
        // "1e" then a name: the 'e' is judged by verify_end_of_number.
        return this.endOfNumberOk(e) ? e : this.bad('invalid decimal literal', e);
      }
      e = this.decimalTail(m);
      if (e < 0) return this.bad('invalid decimal literal', m);
    }
    c = this.at(e);
    if (c === 0x6a || c === 0x4a) return this.finish(e + 1, 'imaginary');
    return this.finish(e, 'decimal');
  }

  // e is just after the '.' of the number starting at k.
  private fraction(e: number, k: number): number {
    if (isDigit(this.at(e))) {
      e = this.decimalTail(e);
      if (e < 0) return this.bad('invalid decimal literal', k);
    }
    return this.exponentAndImag(e);
  }

  // A number starting with '0' at k: a radix prefix, or zeros (then an
  // old-style octal is an error, unless the number is a float).
  private fromZero(k: number): number {
    let e = k + 1;
    let c = this.at(e);
    if (c === 0x78 || c === 0x58) return this.hexadecimal(e + 1);
    if (c === 0x6f || c === 0x4f || c === 0x62 || c === 0x42) return this.octalOrBinary(e + 1, c === 0x6f || c === 0x4f);
    let nonzero = false;
    for (;;) {
      if (this.at(e) === 0x5f) {
        e++;
        if (!isDigit(this.at(e))) return this.bad('invalid decimal literal', e);
      }
      if (this.at(e) !== 0x30) break;
      e++;
    }
    if (isDigit(this.at(e))) {
      nonzero = true;
      e = this.decimalTail(e);
      if (e < 0) return this.bad('invalid decimal literal', k);
    }
    c = this.at(e);
    if (c === 0x2e) return this.fraction(e + 1, k);
    if (c === 0x65 || c === 0x45 || c === 0x6a || c === 0x4a) return this.exponentAndImag(e);
    if (nonzero) {
      return this.bad('leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers', k);
    }
    return this.finish(e, 'decimal');
  }

  // e is just after the 'x' of "0x".
  private hexadecimal(e: number): number {
    do {
      if (this.at(e) === 0x5f) e++;
      if (!isHex(this.at(e))) return this.bad('invalid hexadecimal literal', e);
      while (isHex(this.at(e))) e++;
    } while (this.at(e) === 0x5f);
    return this.finish(e, 'hexadecimal');
  }

  // e is just after the 'o' of "0o" or the 'b' of "0b".
  private octalOrBinary(e: number, octal: boolean): number {
    const kind = octal ? 'octal' : 'binary';
    do {
      if (this.at(e) === 0x5f) e++;
      const d = this.at(e);
      if (!isOctalOrBinary(d, octal)) {
        if (isDigit(d)) return this.bad(`invalid digit '${String.fromCharCode(d)}' in ${kind} literal`, e);
        return this.bad(`invalid ${kind} literal`, e);
      }
      while (isOctalOrBinary(this.at(e), octal)) e++;
    } while (this.at(e) === 0x5f);
    if (isDigit(this.at(e))) return this.bad(`invalid digit '${String.fromCharCode(this.at(e))}' in ${kind} literal`, e);
    return this.finish(e, kind);
  }
}

function isOctalOrBinary(d: number, octal: boolean): boolean {
  return octal ? d >= 0x30 && d <= 0x37 : d === 0x30 || d === 0x31;
}
