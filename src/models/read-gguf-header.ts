import { FileByteReader } from "./file-byte-reader.js";
import { GgufError } from "./gguf-error.js";
import {
  GGUF_VALUE_TYPES,
  type GgufArray,
  type GgufTensorInfo,
  type GgufValue,
  type GgufValueTypeName,
  ggufInteger,
} from "./gguf-types.js";

/** "GGUF" as the first four bytes of the file. */
const MAGIC = Buffer.from("GGUF", "latin1");
/** Keys are at most 65535 bytes (GGUF spec). */
const MAX_KEY_BYTES = 65_535;
/** No real metadata string (a chat template, a license) comes near this; a bigger length is corruption. */
const MAX_STRING_BYTES = 64 * 1024 * 1024;
/** ggml tensors have at most 4 dimensions (GGML_MAX_DIMS). */
const MAX_DIMENSIONS = 4;
/** Nested arrays are allowed by the spec but never this deep in a real file. */
const MAX_ARRAY_DEPTH = 4;
const DEFAULT_ALIGNMENT = 32;

/** Smallest encoded sizes, used to reject counts the rest of the file cannot hold. */
const MIN_KV_BYTES = 8 + 1 + 4 + 1; // key length, one key byte, value type, a one-byte value
const MIN_TENSOR_INFO_BYTES = 8 + 1 + 4 + 8 + 4 + 8; // name length, one name byte, n_dims, one dim, type, offset

const FIXED_SIZE: Partial<Record<GgufValueTypeName, number>> = {
  uint8: 1,
  int8: 1,
  bool: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  float32: 4,
  uint64: 8,
  int64: 8,
  float64: 8,
};

export interface ReadGgufHeaderOptions {
  /** Arrays longer than this are returned with their type and length but without items (tokenizer vocabularies). Default 256. */
  maxArrayItems?: number;
  signal?: AbortSignal;
}

export interface GgufHeader {
  /** GGUF format version: 2 or 3. */
  version: number;
  /** False for a big-endian GGUF. */
  littleEndian: boolean;
  tensorCount: number;
  /** Metadata in file order. */
  metadata: ReadonlyMap<string, GgufValue>;
  tensors: readonly GgufTensorInfo[];
  /** Where the tensor data starts (after the header, aligned to `general.alignment`). */
  dataOffset: number;
  fileSize: number;
}

/**
 * Reads a GGUF file's header: version, metadata key/values and tensor descriptions, never the
 * tensor data. Every length and count is checked against what is left of the file before it is
 * used, so a truncated, corrupt or random file fails fast with a GgufError naming the file, the
 * offset and what was being read; the file must also be long enough to hold every tensor's start.
 */
export async function readGgufHeader(path: string, options: ReadGgufHeaderOptions = {}): Promise<GgufHeader> {
  const reader = await FileByteReader.open(path, options.signal);
  try {
    return await parse(reader, options.maxArrayItems ?? 256);
  } finally {
    await reader.close();
  }
}

async function parse(reader: FileByteReader, maxArrayItems: number): Promise<GgufHeader> {
  const path = reader.path;
  if (reader.size < 4) throw new GgufError(path, `not a GGUF file: only ${reader.size} bytes long`);
  const magic = await reader.bytes(4, "the magic number");
  if (!magic.equals(MAGIC)) {
    throw new GgufError(
      path,
      `not a GGUF file: starts with 0x${magic.toString("hex")}, expected "GGUF" (0x${MAGIC.toString("hex")})`,
      0,
    );
  }
  const version = await readVersion(reader);
  const tensorCount = checkedCount(reader, await reader.u64("the tensor count"), MIN_TENSOR_INFO_BYTES, "tensor count");
  const kvCount = checkedCount(reader, await reader.u64("the metadata count"), MIN_KV_BYTES, "metadata count");

  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const entry = `metadata entry ${i + 1} of ${kvCount}`;
    const key = await readString(reader, `the key of ${entry}`, MAX_KEY_BYTES);
    const where = `${entry} ('${key}')`;
    const type = await readValueType(reader, where);
    metadata.set(key, await readValue(reader, type, where, maxArrayItems, 0));
  }

  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < tensorCount; i++) tensors.push(await readTensorInfo(reader, i, tensorCount));

  const alignment = ggufInteger(metadata.get("general.alignment")) ?? DEFAULT_ALIGNMENT;
  if (alignment <= 0 || alignment % 8 !== 0) {
    throw new GgufError(path, `general.alignment is ${alignment}; expected a positive multiple of 8`);
  }
  const dataOffset = Math.ceil(reader.position / alignment) * alignment;
  checkTensorsFit(path, tensors, dataOffset, reader.size);
  return {
    version,
    littleEndian: reader.littleEndian,
    tensorCount,
    metadata,
    tensors,
    dataOffset,
    fileSize: reader.size,
  };
}

async function readVersion(reader: FileByteReader): Promise<number> {
  const at = reader.position;
  const version = await reader.u32("the version");
  if (version === 2 || version === 3) return version;
  // A big-endian file has the same magic bytes and a byte-swapped version.
  const swapped = Buffer.alloc(4);
  swapped.writeUInt32LE(version);
  const bigEndianVersion = swapped.readUInt32BE();
  if (bigEndianVersion === 2 || bigEndianVersion === 3) {
    reader.littleEndian = false;
    return bigEndianVersion;
  }
  if (version === 1)
    throw new GgufError(reader.path, "GGUF version 1 is not supported (only 2 and 3): convert the model again", at);
  throw new GgufError(reader.path, `unsupported GGUF version ${version} (expected 2 or 3)`, at);
}

/** A count read from the file, rejected when even the smallest entries would not fit in the rest of it. */
function checkedCount(reader: FileByteReader, count: bigint, minBytesEach: number, what: string): number {
  const fits = BigInt(Math.floor(reader.remaining / minBytesEach));
  if (count > fits) {
    throw new GgufError(
      reader.path,
      `${what} ${count} cannot be right: the remaining ${reader.remaining} bytes hold at most ${fits}`,
      reader.position - 8,
    );
  }
  return Number(count);
}

async function readLength(reader: FileByteReader, what: string, max: number): Promise<number> {
  const at = reader.position;
  const length = await reader.u64(`the length of ${what}`);
  if (length > BigInt(reader.remaining)) {
    throw new GgufError(reader.path, `${what} claims ${length} bytes but only ${reader.remaining} remain in the file`, at);
  }
  if (length > BigInt(max)) throw new GgufError(reader.path, `${what} claims ${length} bytes (at most ${max} allowed)`, at);
  return Number(length);
}

// ignoreBOM keeps a leading U+FEFF: it is a real token in SentencePiece vocabularies.
const UTF8 = new TextDecoder("utf-8", { ignoreBOM: true });

async function readString(reader: FileByteReader, what: string, max = MAX_STRING_BYTES): Promise<string> {
  const length = await readLength(reader, what, max);
  return UTF8.decode(await reader.bytes(length, what));
}

async function readValueType(reader: FileByteReader, where: string): Promise<GgufValueTypeName> {
  const at = reader.position;
  const code = await reader.u32(`the value type of ${where}`);
  const type = GGUF_VALUE_TYPES[code];
  if (type === undefined) {
    throw new GgufError(reader.path, `${where} has unknown value type ${code} (expected 0-${GGUF_VALUE_TYPES.length - 1})`, at);
  }
  return type;
}

async function readValue(
  reader: FileByteReader,
  type: GgufValueTypeName,
  where: string,
  maxArrayItems: number,
  depth: number,
): Promise<GgufValue> {
  const what = `the value of ${where}`;
  switch (type) {
    case "uint8":
      return reader.u8(what);
    case "int8":
      return reader.i8(what);
    case "uint16":
      return reader.u16(what);
    case "int16":
      return reader.i16(what);
    case "uint32":
      return reader.u32(what);
    case "int32":
      return reader.i32(what);
    case "float32":
      return reader.f32(what);
    case "bool": {
      const at = reader.position;
      const byte = await reader.u8(what);
      if (byte > 1) throw new GgufError(reader.path, `${what} is a bool of ${byte} (expected 0 or 1)`, at);
      return byte === 1;
    }
    case "string":
      return readString(reader, what);
    case "uint64":
      return reader.u64(what);
    case "int64":
      return reader.i64(what);
    case "float64":
      return reader.f64(what);
    case "array":
      return readArray(reader, where, maxArrayItems, depth);
  }
}

async function readArray(reader: FileByteReader, where: string, maxArrayItems: number, depth: number): Promise<GgufArray> {
  if (depth >= MAX_ARRAY_DEPTH)
    throw new GgufError(reader.path, `${where} nests arrays deeper than ${MAX_ARRAY_DEPTH}`, reader.position);
  const itemType = await readValueType(reader, `the items of ${where}`);
  const at = reader.position;
  const count = await reader.u64(`the length of the array in ${where}`);
  // Strings take at least their 8-byte length, arrays their type and count.
  const minItemBytes = FIXED_SIZE[itemType] ?? (itemType === "string" ? 8 : 12);
  if (count > BigInt(Math.floor(reader.remaining / minItemBytes))) {
    throw new GgufError(
      reader.path,
      `the array in ${where} claims ${count} ${itemType} items, more than the remaining ${reader.remaining} bytes can hold`,
      at,
    );
  }
  const length = Number(count);
  const fixed = FIXED_SIZE[itemType];
  const keep = length <= maxArrayItems;
  const what = `the array in ${where}`;
  if (itemType === "string") {
    const items = await reader.strings(length, what, MAX_STRING_BYTES, keep ? (b) => UTF8.decode(b) : undefined);
    return keep ? { type: "array", itemType, length, items } : { type: "array", itemType, length };
  }
  if (fixed !== undefined) {
    if (!keep) {
      // Walk past it without keeping anything: token scores and types have 100k+ entries.
      reader.skip(length * fixed, what);
      return { type: "array", itemType, length };
    }
    const bytes = await reader.bytes(length * fixed, what);
    return { type: "array", itemType, length, items: decodeFixed(reader, bytes, itemType, fixed, where) };
  }
  const items: GgufValue[] = [];
  for (let i = 0; i < length; i++) {
    const item = await readValue(reader, itemType, `item ${i} of ${where}`, keep ? maxArrayItems : 0, depth + 1);
    if (keep) items.push(item);
  }
  return keep ? { type: "array", itemType, length, items } : { type: "array", itemType, length };
}

/** Decodes an array of fixed-size numbers or bools read in one piece. */
function decodeFixed(
  reader: FileByteReader,
  bytes: Buffer,
  itemType: GgufValueTypeName,
  size: number,
  where: string,
): GgufValue[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = reader.littleEndian;
  const items: GgufValue[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    switch (itemType) {
      case "uint8":
        items.push(view.getUint8(at));
        break;
      case "int8":
        items.push(view.getInt8(at));
        break;
      case "bool": {
        const byte = view.getUint8(at);
        if (byte > 1)
          throw new GgufError(reader.path, `item ${at / size} of the array in ${where} is a bool of ${byte} (expected 0 or 1)`);
        items.push(byte === 1);
        break;
      }
      case "uint16":
        items.push(view.getUint16(at, le));
        break;
      case "int16":
        items.push(view.getInt16(at, le));
        break;
      case "uint32":
        items.push(view.getUint32(at, le));
        break;
      case "int32":
        items.push(view.getInt32(at, le));
        break;
      case "float32":
        items.push(view.getFloat32(at, le));
        break;
      case "uint64":
        items.push(view.getBigUint64(at, le));
        break;
      case "int64":
        items.push(view.getBigInt64(at, le));
        break;
      case "float64":
        items.push(view.getFloat64(at, le));
        break;
      default:
        throw new GgufError(reader.path, `${itemType} is not a fixed-size type`);
    }
  }
  return items;
}

async function readTensorInfo(reader: FileByteReader, index: number, count: number): Promise<GgufTensorInfo> {
  const where = `tensor ${index + 1} of ${count}`;
  const name = await readString(reader, `the name of ${where}`, MAX_KEY_BYTES);
  const at = reader.position;
  const dimensionCount = await reader.u32(`the dimension count of ${where} ('${name}')`);
  if (dimensionCount > MAX_DIMENSIONS) {
    throw new GgufError(reader.path, `${where} ('${name}') has ${dimensionCount} dimensions (at most ${MAX_DIMENSIONS})`, at);
  }
  const dimensions: bigint[] = [];
  for (let d = 0; d < dimensionCount; d++) dimensions.push(await reader.u64(`dimension ${d} of ${where} ('${name}')`));
  const type = await reader.u32(`the type of ${where} ('${name}')`);
  const offset = await reader.u64(`the data offset of ${where} ('${name}')`);
  return { name, dimensions, type, offset };
}

/** Catches files cut short after the header, such as an unfinished download renamed by hand. */
function checkTensorsFit(path: string, tensors: readonly GgufTensorInfo[], dataOffset: number, fileSize: number): void {
  const dataBytes = BigInt(Math.max(0, fileSize - dataOffset));
  for (const tensor of tensors) {
    if (tensor.offset >= dataBytes && !isEmpty(tensor)) {
      throw new GgufError(
        path,
        `file is truncated: tensor '${tensor.name}' starts at byte ${BigInt(dataOffset) + tensor.offset} but the file has only ${fileSize} bytes`,
      );
    }
  }
}

function isEmpty(tensor: GgufTensorInfo): boolean {
  return tensor.dimensions.some((d) => d === 0n);
}
