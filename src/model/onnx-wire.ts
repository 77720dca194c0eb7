// The protobuf wire format, just enough to take ONNX models apart and put them together again
// (single-session.ts). A decoded message is a list of its fields in order; each keeps its encoded
// bytes, so a field passed through unchanged is copied byte for byte.

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

export interface WireField {
  /** Field number. */
  no: number;
  wire: number;
  /** The value: the payload of a length-delimited field, the varint's value, or the fixed bytes. */
  value: Uint8Array | bigint;
  /** The whole field as encoded: tag, length and payload. */
  encoded: Uint8Array;
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

export function decodeMessage(bytes: Uint8Array): WireField[] {
  const fields: WireField[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (pos >= bytes.length) throw new Error('protobuf: truncated varint');
      const byte = bytes[pos++];
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
    }
  };
  while (pos < bytes.length) {
    const start = pos;
    const tag = Number(varint());
    const no = tag >>> 3;
    const wire = tag & 7;
    let value: Uint8Array | bigint;
    if (wire === WIRE_VARINT) value = varint();
    else if (wire === WIRE_LENGTH_DELIMITED) {
      const length = Number(varint());
      if (pos + length > bytes.length) throw new Error(`protobuf: field ${no} runs past the end of its message`);
      value = bytes.subarray(pos, pos + length);
      pos += length;
    } else if (wire === WIRE_FIXED64 || wire === WIRE_FIXED32) {
      const size = wire === WIRE_FIXED64 ? 8 : 4;
      value = bytes.subarray(pos, pos + size);
      pos += size;
    } else throw new Error(`protobuf: unsupported wire type ${wire} in field ${no}`);
    fields.push({ no, wire, value, encoded: bytes.subarray(start, pos) });
  }
  return fields;
}

function encodeVarint(value: bigint | number, out: number[]): void {
  let v = BigInt.asUintN(64, BigInt(value));
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/** A length-delimited field: a string, bytes or an embedded message (given as its encoded fields). */
export function lengthField(no: number, payload: Uint8Array | string | readonly Uint8Array[]): Uint8Array {
  const body = typeof payload === 'string' ? utf8Encoder.encode(payload) : payload instanceof Uint8Array ? payload : concatBytes(payload);
  const head: number[] = [];
  encodeVarint((no << 3) | WIRE_LENGTH_DELIMITED, head);
  encodeVarint(body.byteLength, head);
  return concatBytes([Uint8Array.from(head), body]);
}

export function varintField(no: number, value: bigint | number): Uint8Array {
  const out: number[] = [];
  encodeVarint((no << 3) | WIRE_VARINT, out);
  encodeVarint(value, out);
  return Uint8Array.from(out);
}

/** The payload of a length-delimited field read as UTF-8 (protobuf `string`). */
export function fieldString(field: WireField): string {
  if (!(field.value instanceof Uint8Array)) throw new Error(`protobuf: field ${field.no} is not a string`);
  return utf8Decoder.decode(field.value);
}

export function fieldBytes(field: WireField): Uint8Array {
  if (!(field.value instanceof Uint8Array) || field.wire !== WIRE_LENGTH_DELIMITED) throw new Error(`protobuf: field ${field.no} is not length-delimited`);
  return field.value;
}
