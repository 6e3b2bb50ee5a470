import type { GgufTensorInfo } from "./gguf-types.js";

/**
 * llama.cpp's `llama_ftype` (llama.h), the value of `general.file_type`, by number, without the
 * `LLAMA_FTYPE_ALL_` / `LLAMA_FTYPE_MOSTLY_` prefix: the names people use for quantizations
 * (they match the tags in GGUF file names, e.g. `...-Q4_K_M.gguf`). Numbers marked removed in
 * llama.h keep their old names so that old files still read.
 */
const FILE_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: "F32",
  1: "F16",
  2: "Q4_0",
  3: "Q4_1",
  4: "Q4_1_SOME_F16",
  5: "Q4_2",
  6: "Q4_3",
  7: "Q8_0",
  8: "Q5_0",
  9: "Q5_1",
  10: "Q2_K",
  11: "Q3_K_S",
  12: "Q3_K_M",
  13: "Q3_K_L",
  14: "Q4_K_S",
  15: "Q4_K_M",
  16: "Q5_K_S",
  17: "Q5_K_M",
  18: "Q6_K",
  19: "IQ2_XXS",
  20: "IQ2_XS",
  21: "Q2_K_S",
  22: "IQ3_XS",
  23: "IQ3_XXS",
  24: "IQ1_S",
  25: "IQ4_NL",
  26: "IQ3_S",
  27: "IQ3_M",
  28: "IQ2_S",
  29: "IQ2_M",
  30: "IQ4_XS",
  31: "IQ1_M",
  32: "BF16",
  33: "Q4_0_4_4",
  34: "Q4_0_4_8",
  35: "Q4_0_8_8",
  36: "TQ1_0",
  37: "TQ2_0",
  38: "MXFP4_MOE",
  39: "NVFP4",
  40: "Q1_0",
  41: "Q2_0",
};

/** llama.cpp sets this bit on a file type it guessed from the tensors (`LLAMA_FTYPE_GUESSED`). */
const GUESSED_BIT = 1024;

/** ggml's `ggml_type` (ggml.h), the type of each tensor, by number. */
const GGML_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: "F32",
  1: "F16",
  2: "Q4_0",
  3: "Q4_1",
  4: "Q4_2",
  5: "Q4_3",
  6: "Q5_0",
  7: "Q5_1",
  8: "Q8_0",
  9: "Q8_1",
  10: "Q2_K",
  11: "Q3_K",
  12: "Q4_K",
  13: "Q5_K",
  14: "Q6_K",
  15: "Q8_K",
  16: "IQ2_XXS",
  17: "IQ2_XS",
  18: "IQ3_XXS",
  19: "IQ1_S",
  20: "IQ4_NL",
  21: "IQ3_S",
  22: "IQ2_S",
  23: "IQ4_XS",
  24: "I8",
  25: "I16",
  26: "I32",
  27: "I64",
  28: "F64",
  29: "IQ1_M",
  30: "BF16",
  31: "Q4_0_4_4",
  32: "Q4_0_4_8",
  33: "Q4_0_8_8",
  34: "TQ1_0",
  35: "TQ2_0",
  36: "IQ4_NL_4_4",
  37: "IQ4_NL_4_8",
  38: "IQ4_NL_8_8",
  39: "MXFP4",
  40: "NVFP4",
  41: "Q1_0",
  42: "Q2_0",
};

/**
 * The quantization a ggml tensor type stands for when llama.cpp guesses a file type from the most
 * common tensor type (llama-model-loader.cpp): K-quants count as their `_M` mix.
 */
const GUESS_FROM_TENSOR_TYPE: Readonly<Record<string, string>> = {
  Q3_K: "Q3_K_M",
  Q4_K: "Q4_K_M",
  Q5_K: "Q5_K_M",
};

/** `general.file_type` as a quantization name (`Q4_K_M`); `unknown(N)` for a number this table lacks. */
export function fileTypeName(fileType: number): string {
  const base = fileType & ~GUESSED_BIT;
  return FILE_TYPE_NAMES[base] ?? `unknown(${fileType})`;
}

/** A tensor's ggml type as a name (`Q4_K`); `unknown(N)` when not in the table. */
export function ggmlTypeName(type: number): string {
  return GGML_TYPE_NAMES[type] ?? `unknown(${type})`;
}

/**
 * The quantization of a file without `general.file_type`, the way llama.cpp guesses it: the type
 * most tensors have. Undefined when there are no tensors.
 */
export function guessQuantization(tensors: readonly GgufTensorInfo[]): string | undefined {
  const counts = new Map<number, number>();
  for (const tensor of tensors) counts.set(tensor.type, (counts.get(tensor.type) ?? 0) + 1);
  let best: number | undefined;
  let bestCount = 0;
  for (const [type, count] of counts) {
    if (count > bestCount) {
      best = type;
      bestCount = count;
    }
  }
  if (best === undefined) return undefined;
  const name = ggmlTypeName(best);
  return GUESS_FROM_TENSOR_TYPE[name] ?? name;
}
