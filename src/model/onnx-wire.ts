// The protobuf wire format, as ONNX's messages use it: the one codec of the service (single-session.ts
// takes model.onnx and model-past.onnx apart and puts them together) and of tools/make-model (which
// writes the models). Field numbers are onnx-fields.ts's.
//
// Decoding: a message is a list of its fields in order; each keeps its encoded bytes, so a field
// passed through unchanged is copied byte for byte.
//
// Encoding: ProtoWriter keeps a message as a list of chunks (a rope) rather than one buffer, so a
// 300 MB weight nests through TensorProto → GraphProto → ModelProto without being copied at each
// level: nesting only adds a tag and a length in front.

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

/** The payload of a length-delimited field read as UTF-8 (protobuf `string`). */
export function fieldString(field: WireField): string {
  if (!(field.value instanceof Uint8Array)) throw new Error(`protobuf: field ${field.no} is not a string`);
  return utf8Decoder.decode(field.value);
}

export function fieldBytes(field: WireField): Uint8Array {
  if (!(field.value instanceof Uint8Array) || field.wire !== WIRE_LENGTH_DELIMITED) throw new Error(`protobuf: field ${field.no} is not length-delimited`);
  return field.value;
}

export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  /** Small fields (tags, varints, short strings) gather here before becoming one chunk. */
  private pending: number[] = [];
  private flushedLength = 0;

  get byteLength(): number {
    return this.flushedLength + this.pending.length;
  }

  /** int32/int64/enum field; negative values take ten bytes, as protobuf's int64 does. */
  int(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  /** Unpacked repeated int64 (`repeated int64 x = n;` in proto2 is not packed by default). */
  ints(field: number, values: readonly number[]): this {
    for (const value of values) this.int(field, value);
    return this;
  }

  /** float field (wire type fixed32, little-endian IEEE 754 single). */
  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    for (const byte of bytes) this.pending.push(byte);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8Encoder.encode(value));
  }

  /** Large byte fields are referenced, not copied: the caller must not mutate them afterwards. */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.varint(value.byteLength);
    this.append(value);
    return this;
  }

  message(field: number, value: ProtoWriter): this {
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.varint(value.byteLength);
    value.flush();
    for (const chunk of value.chunks) this.append(chunk);
    return this;
  }

  /** Fields already encoded (a decoded field's `encoded`), appended as they are. */
  raw(encoded: Uint8Array): this {
    this.append(encoded);
    return this;
  }

  /** The encoded message as chunks in order; their concatenation is the wire bytes. */
  finish(): Uint8Array[] {
    this.flush();
    return this.chunks;
  }

  private tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  private varint(value: number | bigint): void {
    if (typeof value === 'bigint') {
      if (value < 0n || value >= 1n << 64n) throw new RangeError(`varint out of range: ${value}`);
    } else if (!Number.isSafeInteger(value)) throw new RangeError(`varint out of range: ${value}`);
    if (typeof value === 'bigint' || value < 0) {
      let big = BigInt.asUintN(64, BigInt(value));
      while (big >= 0x80n) {
        this.pending.push(Number(big & 0x7fn) | 0x80);
        big >>= 7n;
      }
      this.pending.push(Number(big));
      return;
    }
    while (value >= 0x80) {
      this.pending.push((value % 0x80) | 0x80);
      value = Math.floor(value / 0x80);
    }
    this.pending.push(value);
  }

  private append(chunk: Uint8Array): void {
    if (chunk.byteLength < 64) {
      for (const byte of chunk) this.pending.push(byte);
      return;
    }
    this.flush();
    this.chunks.push(chunk);
    this.flushedLength += chunk.byteLength;
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.chunks.push(Uint8Array.from(this.pending));
    this.flushedLength += this.pending.length;
    this.pending = [];
  }
}

/** One length-delimited field: a string, bytes or an embedded message (given as its encoded fields). */
export function lengthField(no: number, payload: Uint8Array | string | readonly Uint8Array[]): Uint8Array {
  const w = new ProtoWriter();
  if (typeof payload === 'string') w.string(no, payload);
  else if (payload instanceof Uint8Array) w.bytes(no, payload);
  else w.message(no, payload.reduce((m, p) => m.raw(p), new ProtoWriter()));
  return concatBytes(w.finish());
}

/** One varint field. */
export function varintField(no: number, value: bigint | number): Uint8Array {
  return concatBytes(new ProtoWriter().int(no, value).finish());
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
