/**
 * GGUF's metadata value types, as numbered in the GGUF spec (ggml/docs/gguf.md, `gguf_metadata_value_type`).
 */
export const GGUF_VALUE_TYPES = [
  "uint8",
  "int8",
  "uint16",
  "int16",
  "uint32",
  "int32",
  "float32",
  "bool",
  "string",
  "array",
  "uint64",
  "int64",
  "float64",
] as const;

export type GgufValueTypeName = (typeof GGUF_VALUE_TYPES)[number];

/** 64-bit integers are bigints, the other numbers are numbers. */
export type GgufScalar = number | bigint | boolean | string;

/** An array value; `items` is left out when the array is longer than the reader was asked to keep (token lists). */
export interface GgufArray {
  readonly type: "array";
  readonly itemType: GgufValueTypeName;
  readonly length: number;
  readonly items?: readonly GgufValue[];
}

export type GgufValue = GgufScalar | GgufArray;

/** One tensor's description from the header (its data is never read). */
export interface GgufTensorInfo {
  readonly name: string;
  readonly dimensions: readonly bigint[];
  /** ggml's type number (`ggml_type`); see `ggmlTypeName`. */
  readonly type: number;
  /** Offset of the tensor's data from the start of the data section. */
  readonly offset: bigint;
}

export function isGgufArray(value: GgufValue | undefined): value is GgufArray {
  return typeof value === "object" && value !== null && value.type === "array";
}

/** A metadata integer as a number, when it is one that fits. */
export function ggufInteger(value: GgufValue | undefined): number | undefined {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "bigint" && value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER))
    return Number(value);
  return undefined;
}

export function ggufString(value: GgufValue | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}
