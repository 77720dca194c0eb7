// The one protobuf codec (src/model/onnx-wire.ts): what ProtoWriter and the one-field helpers write,
// decodeMessage reads back field by field, each field's encoded bytes passing through unchanged.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { concatBytes, decodeMessage, fieldBytes, fieldString, lengthField, ProtoWriter, varintField } from '../../src/model/onnx-wire.ts';

describe('onnx-wire', () => {
  it('varints, fixed32, strings, bytes and nested messages round-trip, in order', () => {
    const inner = new ProtoWriter().int(1, 300).string(2, 'ü');
    const weight = new Uint8Array(100).map((_, i) => i);
    const bytes = concatBytes(new ProtoWriter().int(1, 5).int(2, -1).float(3, 1.5).string(4, 'name').bytes(5, weight).message(6, inner).int(7, 1n << 40n).finish());
    const fields = decodeMessage(bytes);
    assert.deepEqual(fields.map((f) => [f.no, f.wire]), [[1, 0], [2, 0], [3, 5], [4, 2], [5, 2], [6, 2], [7, 0]]);
    assert.equal(fields[0].value, 5n);
    assert.equal(fields[1].value, (1n << 64n) - 1n, 'a negative int takes ten bytes, as int64');
    assert.equal(new DataView((fields[2].value as Uint8Array).slice().buffer).getFloat32(0, true), 1.5);
    assert.equal(fieldString(fields[3]), 'name');
    assert.deepEqual(fieldBytes(fields[4]), weight);
    assert.deepEqual(decodeMessage(fieldBytes(fields[5])).map((f) => (f.no === 1 ? f.value : fieldString(f))), [300n, 'ü']);
    assert.equal(fields[6].value, 1n << 40n);
    assert.deepEqual(concatBytes(fields.map((f) => f.encoded)), bytes, 'the fields\' encoded bytes are the message');
  });

  it('the one-field helpers write what ProtoWriter writes; raw() passes encoded fields through', () => {
    const parts = [varintField(1, 9n), lengthField(2, 'x')];
    assert.deepEqual(lengthField(3, parts), concatBytes(new ProtoWriter().message(3, new ProtoWriter().int(1, 9).string(2, 'x')).finish()));
    assert.deepEqual(concatBytes(new ProtoWriter().raw(parts[0]).raw(parts[1]).finish()), concatBytes(parts));
    assert.deepEqual(lengthField(4, Uint8Array.of(7)), Uint8Array.of(0x22, 1, 7));
  });

  it('refuses a truncated varint, a field running past its message, and an unknown wire type', () => {
    assert.throws(() => decodeMessage(Uint8Array.of(0x08, 0x80)), /truncated varint/);
    assert.throws(() => decodeMessage(Uint8Array.of(0x12, 5, 1)), /runs past the end/);
    assert.throws(() => decodeMessage(Uint8Array.of(0x0b)), /unsupported wire type 3/);
    assert.throws(() => new ProtoWriter().int(1, 2 ** 60), /varint out of range/);
  });
});
