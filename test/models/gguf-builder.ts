/**
 * Writes small GGUF files byte by byte from the GGUF spec (ggml/docs/gguf.md), for tests that need
 * headers the two real tiny models do not have: every value type, nested arrays, big-endian,
 * quantized file types, chat templates, and deliberately corrupt lengths.
 */
import { GGUF_VALUE_TYPES, type GgufValueTypeName } from "../../src/models/gguf-types.js";

export type BuildValue =
  | { type: Exclude<GgufValueTypeName, "array" | "uint64" | "int64" | "string" | "bool">; value: number }
  | { type: "uint64" | "int64"; value: bigint }
  | { type: "string"; value: string }
  | { type: "bool"; value: boolean }
  | { type: "array"; itemType: GgufValueTypeName; items: BuildValue[] };

export interface BuildTensor {
  name: string;
  dims: bigint[];
  /** ggml type number. */
  type: number;
  offset: bigint;
}

export interface BuildOptions {
  version?: number;
  littleEndian?: boolean;
  metadata?: [string, BuildValue][];
  tensors?: BuildTensor[];
  /** Bytes of tensor data to append after the aligned header. Default 0. */
  dataBytes?: number;
}

class Writer {
  readonly parts: Buffer[] = [];
  constructor(readonly le: boolean) {}
  u32(n: number): void {
    const b = Buffer.alloc(4);
    this.le ? b.writeUInt32LE(n) : b.writeUInt32BE(n);
    this.parts.push(b);
  }
  u64(n: bigint): void {
    const b = Buffer.alloc(8);
    this.le ? b.writeBigUInt64LE(n) : b.writeBigUInt64BE(n);
    this.parts.push(b);
  }
  raw(b: Buffer): void {
    this.parts.push(b);
  }
  string(s: string): void {
    const bytes = Buffer.from(s, "utf8");
    this.u64(BigInt(bytes.length));
    this.raw(bytes);
  }
  get length(): number {
    return this.parts.reduce((n, p) => n + p.length, 0);
  }
}

function typeCode(type: GgufValueTypeName): number {
  return GGUF_VALUE_TYPES.indexOf(type);
}

function writeValue(w: Writer, v: BuildValue): void {
  const b8 = Buffer.alloc(8);
  switch (v.type) {
    case "uint8":
      w.raw(Buffer.from([v.value]));
      return;
    case "int8": {
      const b = Buffer.alloc(1);
      b.writeInt8(v.value);
      w.raw(b);
      return;
    }
    case "uint16":
    case "int16": {
      const b = Buffer.alloc(2);
      if (v.type === "uint16") w.le ? b.writeUInt16LE(v.value) : b.writeUInt16BE(v.value);
      else w.le ? b.writeInt16LE(v.value) : b.writeInt16BE(v.value);
      w.raw(b);
      return;
    }
    case "uint32":
      w.u32(v.value);
      return;
    case "int32": {
      const b = Buffer.alloc(4);
      w.le ? b.writeInt32LE(v.value) : b.writeInt32BE(v.value);
      w.raw(b);
      return;
    }
    case "float32": {
      const b = Buffer.alloc(4);
      w.le ? b.writeFloatLE(v.value) : b.writeFloatBE(v.value);
      w.raw(b);
      return;
    }
    case "float64":
      w.le ? b8.writeDoubleLE(v.value) : b8.writeDoubleBE(v.value);
      w.raw(b8);
      return;
    case "uint64":
      w.u64(v.value);
      return;
    case "int64":
      w.le ? b8.writeBigInt64LE(v.value) : b8.writeBigInt64BE(v.value);
      w.raw(b8);
      return;
    case "bool":
      w.raw(Buffer.from([v.value ? 1 : 0]));
      return;
    case "string":
      w.string(v.value);
      return;
    case "array":
      w.u32(typeCode(v.itemType));
      w.u64(BigInt(v.items.length));
      for (const item of v.items) writeValue(w, item);
      return;
  }
}

/** A GGUF file's bytes. */
export function buildGguf(options: BuildOptions = {}): Buffer {
  const w = new Writer(options.littleEndian ?? true);
  const metadata = options.metadata ?? [];
  const tensors = options.tensors ?? [];
  w.raw(Buffer.from("GGUF", "latin1"));
  w.u32(options.version ?? 3);
  w.u64(BigInt(tensors.length));
  w.u64(BigInt(metadata.length));
  for (const [key, value] of metadata) {
    w.string(key);
    w.u32(typeCode(value.type));
    writeValue(w, value);
  }
  for (const t of tensors) {
    w.string(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(t.type);
    w.u64(t.offset);
  }
  const pad = (32 - (w.length % 32)) % 32;
  w.raw(Buffer.alloc(pad));
  w.raw(Buffer.alloc(options.dataBytes ?? 0, 0x5a));
  return Buffer.concat(w.parts);
}

/** A small llama-shaped model header: architecture, context length, file type, optional chat template, one tensor. */
export function buildLlamaLikeGguf(
  options: { fileType?: number; chatTemplate?: string; contextLength?: number; name?: string } = {},
): Buffer {
  const metadata: [string, BuildValue][] = [
    ["general.architecture", { type: "string", value: "llama" }],
    ["general.name", { type: "string", value: options.name ?? "Tiny Test" }],
    ["llama.context_length", { type: "uint32", value: options.contextLength ?? 8192 }],
    ["llama.embedding_length", { type: "uint32", value: 16 }],
    ["llama.block_count", { type: "uint32", value: 2 }],
  ];
  if (options.fileType !== undefined) metadata.push(["general.file_type", { type: "uint32", value: options.fileType }]);
  if (options.chatTemplate !== undefined)
    metadata.push(["tokenizer.chat_template", { type: "string", value: options.chatTemplate }]);
  return buildGguf({
    metadata,
    tensors: [{ name: "token_embd.weight", dims: [16n, 4n], type: 0, offset: 0n }],
    dataBytes: 16 * 4 * 4,
  });
}
