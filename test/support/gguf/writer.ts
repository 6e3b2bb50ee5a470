/**
 * A small, generic GGUF v3 writer for tests.
 *
 * Layout (ggml docs/gguf.md, all little-endian):
 *   header:      "GGUF" magic, uint32 version (3), uint64 tensor count, uint64 metadata kv count
 *   metadata:    per kv: gguf string key, uint32 value type, value
 *   tensor info: per tensor: gguf string name, uint32 n_dims, uint64 dims[n_dims] (ggml order: ne0,
 *                the fastest-varying dimension, first; that is the reverse of numpy's shape),
 *                uint32 ggml type, uint64 offset of its data relative to the start of the data section
 *   padding:     zero bytes up to a multiple of `general.alignment` (default 32)
 *   data:        each tensor's bytes, each one starting at a multiple of the alignment
 * A gguf string is a uint64 byte length followed by UTF-8 bytes (no terminator); an array value is a
 * uint32 item type, a uint64 count, then the items.
 */

import { writeFile } from "node:fs/promises";

export const GGUF_MAGIC = "GGUF";
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** Metadata value types (gguf_type in ggml). */
export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;

/** Tensor element types this writer can encode (ggml_type ids). */
export const GgmlType = {
  F32: 0,
  F16: 1,
} as const;
export type GgmlTypeName = keyof typeof GgmlType;

export type GgufScalarTypeName =
  | "uint8"
  | "int8"
  | "uint16"
  | "int16"
  | "uint32"
  | "int32"
  | "float32"
  | "bool"
  | "string"
  | "uint64"
  | "int64"
  | "float64";

export type GgufScalarValue =
  | { type: "uint8" | "int8" | "uint16" | "int16" | "uint32" | "int32" | "float32" | "float64"; value: number }
  | { type: "uint64" | "int64"; value: bigint | number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string };

export type GgufArrayValue =
  | {
      type: "array";
      itemType: "uint8" | "int8" | "uint16" | "int16" | "uint32" | "int32" | "float32" | "float64";
      values: readonly number[] | ArrayLike<number>;
    }
  | { type: "array"; itemType: "uint64" | "int64"; values: readonly (bigint | number)[] }
  | { type: "array"; itemType: "bool"; values: readonly boolean[] }
  | { type: "array"; itemType: "string"; values: readonly string[] }
  /** An array of arrays (allowed by the spec, rarely used). */
  | { type: "array"; itemType: "array"; values: readonly GgufArrayValue[] };

export type GgufValue = GgufScalarValue | GgufArrayValue;

/**
 * What a metadata entry may be given as. Plain JS values are typed by inference: string -> STRING,
 * boolean -> BOOL, bigint -> INT64, integer number -> UINT32 when >= 0 (INT32 when negative),
 * non-integer number -> FLOAT32, string[] -> ARRAY of STRING. Use the `gguf.*` helpers for anything else.
 */
export type GgufMetadataInput = GgufValue | string | boolean | number | bigint | readonly string[];

/** Typed value constructors for metadata. */
export const gguf = {
  u8: (value: number): GgufValue => ({ type: "uint8", value }),
  i8: (value: number): GgufValue => ({ type: "int8", value }),
  u16: (value: number): GgufValue => ({ type: "uint16", value }),
  i16: (value: number): GgufValue => ({ type: "int16", value }),
  u32: (value: number): GgufValue => ({ type: "uint32", value }),
  i32: (value: number): GgufValue => ({ type: "int32", value }),
  f32: (value: number): GgufValue => ({ type: "float32", value }),
  f64: (value: number): GgufValue => ({ type: "float64", value }),
  u64: (value: bigint | number): GgufValue => ({ type: "uint64", value }),
  i64: (value: bigint | number): GgufValue => ({ type: "int64", value }),
  bool: (value: boolean): GgufValue => ({ type: "bool", value }),
  str: (value: string): GgufValue => ({ type: "string", value }),
  strings: (values: readonly string[]): GgufArrayValue => ({ type: "array", itemType: "string", values }),
  f32s: (values: readonly number[] | ArrayLike<number>): GgufArrayValue => ({ type: "array", itemType: "float32", values }),
  i32s: (values: readonly number[] | ArrayLike<number>): GgufArrayValue => ({ type: "array", itemType: "int32", values }),
  u32s: (values: readonly number[] | ArrayLike<number>): GgufArrayValue => ({ type: "array", itemType: "uint32", values }),
  bools: (values: readonly boolean[]): GgufArrayValue => ({ type: "array", itemType: "bool", values }),
  /** An array of arrays. */
  arrays: (values: readonly GgufArrayValue[]): GgufArrayValue => ({ type: "array", itemType: "array", values }),
};

export interface GgufTensorInput {
  name: string;
  /**
   * Dimensions in ggml order (ne0 first, the contiguous one). A PyTorch/numpy weight of shape
   * [out, in] is written as dims [in, out]; e.g. llama's token_embd.weight is [n_embd, n_vocab].
   */
  dims: readonly number[];
  /** Element values in ggml memory order (ne0 fastest). Length must equal the product of dims. */
  data: Float32Array | readonly number[];
  /** Stored element type; default F32. F16 values are rounded to nearest-even. */
  type?: GgmlTypeName;
}

export interface GgufFileInput {
  /** Metadata entries in the order they are written. `general.alignment` is added when missing. */
  metadata: Record<string, GgufMetadataInput> | ReadonlyArray<readonly [string, GgufMetadataInput]>;
  tensors?: readonly GgufTensorInput[];
  /** Data alignment; default 32 (also written as `general.alignment` when not given in metadata). */
  alignment?: number;
}

/** Where one tensor ended up, for tests of the writer itself. */
export interface GgufTensorLayout {
  name: string;
  dims: number[];
  type: GgmlTypeName;
  /** Offset relative to the start of the data section. */
  offset: number;
  byteLength: number;
}

export interface GgufEncoded {
  bytes: Buffer;
  /** Absolute file offset of the data section. */
  dataOffset: number;
  alignment: number;
  tensors: GgufTensorLayout[];
}

const SCALAR_TYPE_IDS: Record<GgufScalarTypeName, number> = {
  uint8: GgufValueType.UINT8,
  int8: GgufValueType.INT8,
  uint16: GgufValueType.UINT16,
  int16: GgufValueType.INT16,
  uint32: GgufValueType.UINT32,
  int32: GgufValueType.INT32,
  float32: GgufValueType.FLOAT32,
  bool: GgufValueType.BOOL,
  string: GgufValueType.STRING,
  uint64: GgufValueType.UINT64,
  int64: GgufValueType.INT64,
  float64: GgufValueType.FLOAT64,
};

/** Growable little-endian byte sink. */
class ByteSink {
  private buf = Buffer.alloc(1 << 16);
  private len = 0;

  get length(): number {
    return this.len;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  u8(v: number): void {
    this.reserve(1);
    this.buf.writeUInt8(v, this.len);
    this.len += 1;
  }
  i8(v: number): void {
    this.reserve(1);
    this.buf.writeInt8(v, this.len);
    this.len += 1;
  }
  u16(v: number): void {
    this.reserve(2);
    this.buf.writeUInt16LE(v, this.len);
    this.len += 2;
  }
  i16(v: number): void {
    this.reserve(2);
    this.buf.writeInt16LE(v, this.len);
    this.len += 2;
  }
  u32(v: number): void {
    this.reserve(4);
    this.buf.writeUInt32LE(v, this.len);
    this.len += 4;
  }
  i32(v: number): void {
    this.reserve(4);
    this.buf.writeInt32LE(v, this.len);
    this.len += 4;
  }
  f32(v: number): void {
    this.reserve(4);
    this.buf.writeFloatLE(v, this.len);
    this.len += 4;
  }
  f64(v: number): void {
    this.reserve(8);
    this.buf.writeDoubleLE(v, this.len);
    this.len += 8;
  }
  u64(v: bigint | number): void {
    this.reserve(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.len);
    this.len += 8;
  }
  i64(v: bigint | number): void {
    this.reserve(8);
    this.buf.writeBigInt64LE(BigInt(v), this.len);
    this.len += 8;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  str(s: string): void {
    const b = Buffer.from(s, "utf8");
    this.u64(b.length);
    this.bytes(b);
  }
  padTo(alignment: number): void {
    const pad = (alignment - (this.len % alignment)) % alignment;
    this.reserve(pad);
    this.buf.fill(0, this.len, this.len + pad);
    this.len += pad;
  }
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.len));
  }
}

function normalizeValue(input: GgufMetadataInput, key: string): GgufValue {
  if (typeof input === "string") return { type: "string", value: input };
  if (typeof input === "boolean") return { type: "bool", value: input };
  if (typeof input === "bigint") return { type: "int64", value: input };
  if (typeof input === "number") {
    if (!Number.isFinite(input)) throw new Error(`gguf: metadata ${key} is not a finite number`);
    if (Number.isInteger(input)) return input >= 0 ? { type: "uint32", value: input } : { type: "int32", value: input };
    return { type: "float32", value: input };
  }
  if (Array.isArray(input)) {
    const strings: readonly string[] = input;
    return { type: "array", itemType: "string", values: strings };
  }
  return input as GgufValue;
}

function checkInt(value: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`gguf: ${what}: ${value} is out of range`);
}

function writeScalar(sink: ByteSink, type: GgufScalarTypeName, value: number | bigint | boolean | string, what: string): void {
  switch (type) {
    case "uint8":
      checkInt(Number(value), 0, 0xff, what);
      sink.u8(Number(value));
      return;
    case "int8":
      checkInt(Number(value), -0x80, 0x7f, what);
      sink.i8(Number(value));
      return;
    case "uint16":
      checkInt(Number(value), 0, 0xffff, what);
      sink.u16(Number(value));
      return;
    case "int16":
      checkInt(Number(value), -0x8000, 0x7fff, what);
      sink.i16(Number(value));
      return;
    case "uint32":
      checkInt(Number(value), 0, 0xffffffff, what);
      sink.u32(Number(value));
      return;
    case "int32":
      checkInt(Number(value), -0x80000000, 0x7fffffff, what);
      sink.i32(Number(value));
      return;
    case "float32":
      sink.f32(Number(value));
      return;
    case "float64":
      sink.f64(Number(value));
      return;
    case "uint64":
      sink.u64(typeof value === "bigint" ? value : Number(value));
      return;
    case "int64":
      sink.i64(typeof value === "bigint" ? value : Number(value));
      return;
    case "bool":
      sink.u8(value === true ? 1 : 0);
      return;
    case "string":
      sink.str(String(value));
      return;
  }
}

function writeArrayBody(sink: ByteSink, value: GgufArrayValue, what: string): void {
  if (value.itemType === "array") {
    sink.u32(GgufValueType.ARRAY);
    sink.u64(value.values.length);
    value.values.forEach((inner, i) => {
      writeArrayBody(sink, inner, `${what}[${i}]`);
    });
    return;
  }
  sink.u32(SCALAR_TYPE_IDS[value.itemType]);
  const values = value.values;
  sink.u64(values.length);
  for (let i = 0; i < values.length; i++) {
    const item = values[i];
    if (item === undefined) throw new Error(`gguf: ${what}[${i}] is missing`);
    writeScalar(sink, value.itemType, item, `${what}[${i}]`);
  }
}

function writeValue(sink: ByteSink, value: GgufValue, what: string): void {
  if (value.type === "array") {
    sink.u32(GgufValueType.ARRAY);
    writeArrayBody(sink, value, what);
    return;
  }
  sink.u32(SCALAR_TYPE_IDS[value.type]);
  writeScalar(sink, value.type, value.value, what);
}

// Scratch for float32ToFloat16Bits: one shared pair, so converting a large tensor allocates nothing per value.
const F32_SCRATCH = new Float32Array(1);
const U32_SCRATCH = new Uint32Array(F32_SCRATCH.buffer);

/** IEEE 754 binary32 -> binary16 bits, round to nearest even (handles subnormals, inf, NaN). */
export function float32ToFloat16Bits(value: number): number {
  F32_SCRATCH[0] = value;
  const x = U32_SCRATCH[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    if (rem > half || (rem === half && (h & 1) === 1)) h += 1;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h += 1;
  return sign | h;
}

/** binary16 bits -> number (for tests and for callers that want to know what F16 stored). */
export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function tensorBytes(t: GgufTensorInput): Uint8Array {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== count) {
    throw new Error(`gguf: tensor ${t.name} has ${t.data.length} values, dims [${t.dims.join(", ")}] need ${count}`);
  }
  const type = t.type ?? "F32";
  if (type === "F32") {
    const f = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
    return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
  }
  // A DataView is much faster than Buffer.writeUInt16LE for tensors of tens of millions of values.
  const out = new Uint8Array(count * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < count; i++) view.setUint16(i * 2, float32ToFloat16Bits(t.data[i]!), true);
  return out;
}

/** Encodes a complete GGUF v3 file in memory. */
export function encodeGguf(file: GgufFileInput): GgufEncoded {
  const entries: Array<[string, GgufValue]> = (
    Array.isArray(file.metadata)
      ? (file.metadata as ReadonlyArray<readonly [string, GgufMetadataInput]>)
      : Object.entries(file.metadata as Record<string, GgufMetadataInput>)
  ).map(([k, v]) => [k, normalizeValue(v, k)]);

  const keys = new Set<string>();
  for (const [k] of entries) {
    if (keys.has(k)) throw new Error(`gguf: duplicate metadata key ${k}`);
    keys.add(k);
  }

  let alignment = file.alignment ?? GGUF_DEFAULT_ALIGNMENT;
  const alignEntry = entries.find(([k]) => k === "general.alignment");
  if (alignEntry) {
    const v = alignEntry[1];
    if (v.type !== "uint32") throw new Error("gguf: general.alignment must be a uint32");
    if (file.alignment !== undefined && file.alignment !== v.value) {
      throw new Error("gguf: alignment option and general.alignment metadata disagree");
    }
    alignment = v.value;
  } else {
    entries.push(["general.alignment", { type: "uint32", value: alignment }]);
  }
  if (!Number.isInteger(alignment) || alignment <= 0 || alignment % 8 !== 0) {
    throw new Error(`gguf: alignment must be a positive multiple of 8, got ${alignment}`);
  }

  const tensors = file.tensors ?? [];
  const names = new Set<string>();
  const layouts: GgufTensorLayout[] = [];
  const payloads: Uint8Array[] = [];
  let offset = 0;
  for (const t of tensors) {
    if (names.has(t.name)) throw new Error(`gguf: duplicate tensor ${t.name}`);
    names.add(t.name);
    if (t.dims.length === 0 || t.dims.length > 4) throw new Error(`gguf: tensor ${t.name} must have 1..4 dims`);
    for (const d of t.dims) if (!Number.isInteger(d) || d <= 0) throw new Error(`gguf: tensor ${t.name} has a bad dim ${d}`);
    const bytes = tensorBytes(t);
    offset = Math.ceil(offset / alignment) * alignment;
    layouts.push({ name: t.name, dims: [...t.dims], type: t.type ?? "F32", offset, byteLength: bytes.length });
    payloads.push(bytes);
    offset += bytes.length;
  }

  const sink = new ByteSink();
  sink.bytes(Buffer.from(GGUF_MAGIC, "ascii"));
  sink.u32(GGUF_VERSION);
  sink.u64(tensors.length);
  sink.u64(entries.length);
  for (const [k, v] of entries) {
    sink.str(k);
    writeValue(sink, v, k);
  }
  for (const l of layouts) {
    sink.str(l.name);
    sink.u32(l.dims.length);
    for (const d of l.dims) sink.u64(d);
    sink.u32(GgmlType[l.type]);
    sink.u64(l.offset);
  }
  sink.padTo(alignment);
  const dataOffset = sink.length;
  layouts.forEach((l, i) => {
    sink.padTo(alignment);
    if (sink.length - dataOffset !== l.offset) throw new Error("gguf: internal layout error");
    sink.bytes(payloads[i]!);
  });
  // Pad the end too, so the data section is a whole number of alignment units (gguf-py does the same).
  if (layouts.length > 0) sink.padTo(alignment);
  return { bytes: sink.toBuffer(), dataOffset, alignment, tensors: layouts };
}

/** Encodes and writes a GGUF file; returns the layout. */
export async function writeGgufFile(path: string, file: GgufFileInput): Promise<GgufEncoded> {
  const encoded = encodeGguf(file);
  await writeFile(path, encoded.bytes);
  return encoded;
}
