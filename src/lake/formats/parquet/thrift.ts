/**
 * Just enough of the Thrift compact protocol to write Parquet's page headers and footer. Structs
 * are written from a small declarative form (field id → value) so metadata.ts reads like
 * parquet.thrift; undefined fields are optional fields left out.
 */
import { ByteBuffer } from './byte-buffer.js';

const CompactType = { BoolTrue: 1, BoolFalse: 2, I16: 4, I32: 5, I64: 6, Binary: 8, List: 9, Struct: 12 } as const;
type CompactType = (typeof CompactType)[keyof typeof CompactType];

export type ThriftValue =
  | { readonly kind: 'i16' | 'i32' | 'i64'; readonly value: number }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'binary'; readonly value: Uint8Array }
  | ThriftStruct
  | { readonly kind: 'list'; readonly element: 'i32' | 'binary' | 'struct'; readonly items: readonly ThriftValue[] };

export interface ThriftStruct {
  readonly kind: 'struct';
  readonly fields: readonly (readonly [id: number, value: ThriftValue | undefined])[];
}

export const i16 = (value: number): ThriftValue => ({ kind: 'i16', value });
export const i32 = (value: number): ThriftValue => ({ kind: 'i32', value });
export const i64 = (value: number): ThriftValue => ({ kind: 'i64', value });
export const bool = (value: boolean): ThriftValue => ({ kind: 'bool', value });
export const binary = (value: Uint8Array): ThriftValue => ({ kind: 'binary', value });
export const text = (value: string): ThriftValue => binary(Buffer.from(value, 'utf8'));
export const struct = (...fields: (readonly [number, ThriftValue | undefined])[]): ThriftStruct => ({
  kind: 'struct',
  fields,
});
export const list = (element: 'i32' | 'binary' | 'struct', items: readonly ThriftValue[]): ThriftValue => ({
  kind: 'list',
  element,
  items,
});

/** Serializes a struct (a page header, the footer) in the compact protocol. */
export function serialize(value: ThriftStruct): Buffer {
  const out = new ByteBuffer(256);
  writeStruct(out, value);
  return Buffer.from(out.view());
}

function writeStruct(out: ByteBuffer, value: ThriftStruct): void {
  let lastId = 0;
  for (const [id, field] of value.fields) {
    if (field === undefined) continue;
    writeFieldHeader(out, id, lastId, typeOf(field));
    if (field.kind !== 'bool') writeValue(out, field);
    lastId = id;
  }
  out.byte(0); // stop
}

function writeFieldHeader(out: ByteBuffer, id: number, lastId: number, type: CompactType): void {
  const delta = id - lastId;
  if (delta > 0 && delta <= 15) {
    out.byte((delta << 4) | type);
  } else {
    out.byte(type);
    out.varint(zigzag(id));
  }
}

function writeValue(out: ByteBuffer, value: ThriftValue): void {
  switch (value.kind) {
    case 'i16':
    case 'i32':
    case 'i64':
      out.varint(zigzag(value.value));
      return;
    case 'bool':
      out.byte(value.value ? CompactType.BoolTrue : CompactType.BoolFalse);
      return;
    case 'binary':
      out.varint(value.value.length);
      out.bytes(value.value);
      return;
    case 'struct':
      writeStruct(out, value);
      return;
    case 'list': {
      const element = ELEMENT_TYPES[value.element];
      if (value.items.length < 15) out.byte((value.items.length << 4) | element);
      else {
        out.byte(0xf0 | element);
        out.varint(value.items.length);
      }
      for (const item of value.items) writeValue(out, item);
    }
  }
}

const ELEMENT_TYPES = { i32: CompactType.I32, binary: CompactType.Binary, struct: CompactType.Struct } as const;

function typeOf(value: ThriftValue): CompactType {
  switch (value.kind) {
    case 'i16':
      return CompactType.I16;
    case 'i32':
      return CompactType.I32;
    case 'i64':
      return CompactType.I64;
    case 'bool':
      return value.value ? CompactType.BoolTrue : CompactType.BoolFalse;
    case 'binary':
      return CompactType.Binary;
    case 'struct':
      return CompactType.Struct;
    case 'list':
      return CompactType.List;
  }
}

/** ZigZag for integers up to 2^52 in magnitude, without 32-bit shifts. */
function zigzag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}
