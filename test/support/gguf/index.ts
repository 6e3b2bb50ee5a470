/**
 * Test support: tiny, deterministic GGUF models for tests of tandem's embedded llama.cpp engine.
 * See scripted-model.ts for how the models work and writer.ts for the GGUF writer.
 */

import { randomBytes } from "node:crypto";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export {
  type BigramMachine,
  type BigramModelOptions,
  type ChatFamily,
  EOS,
  FIM,
  longAnswerPieces,
  type PresetOptions,
  pyJsonDumps,
  QWEN3_CHAT_TEMPLATE,
  QWEN25_CHAT_TEMPLATE,
  type ScriptedModelInfo,
  type ScriptedModelOptions,
  splitScript,
  type TokenRef,
  type ToolCallModelOptions,
  writeBigramModel,
  writeChatModel,
  writeJsonAnswerModel,
  writeLongAnswerModel,
  writeLoopingModel,
  writeScriptedModel,
  writeThinkingModel,
  writeToolCallModel,
} from "./scripted-model.js";
export { type ThroughputModelInfo, type ThroughputModelOptions, writeThroughputModel } from "./throughput-model.js";
export {
  encodeGguf,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VERSION,
  GgmlType,
  type GgmlTypeName,
  type GgufEncoded,
  type GgufFileInput,
  type GgufMetadataInput,
  type GgufTensorInput,
  type GgufTensorLayout,
  type GgufValue,
  GgufValueType,
  gguf,
  writeGgufFile,
} from "./writer.js";

/** A fresh directory under the OS temp dir; `cleanup()` removes it and everything in it. */
export async function makeModelDir(prefix = "tandem-gguf-"): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Copies the first `bytes` bytes of `src` to `dst` (a model cut off mid-download). */
export async function truncatedCopy(src: string, dst: string, bytes: number): Promise<void> {
  if (!Number.isInteger(bytes) || bytes < 0) throw new Error(`truncatedCopy: bad byte count ${bytes}`);
  const fh = await open(src, "r");
  try {
    const { size } = await fh.stat();
    if (bytes > size) throw new Error(`truncatedCopy: ${src} has only ${size} bytes, asked for ${bytes}`);
    const buf = Buffer.alloc(bytes);
    let read = 0;
    while (read < bytes) {
      const { bytesRead } = await fh.read(buf, read, bytes - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    await writeFile(dst, buf.subarray(0, read));
  } finally {
    await fh.close();
  }
}

/** Writes `size` random bytes to `dst` (not a GGUF file at all). Pass `seed` text to get the same bytes every time. */
export async function randomBytesFile(dst: string, size: number, seed?: string): Promise<void> {
  if (!Number.isInteger(size) || size < 0) throw new Error(`randomBytesFile: bad size ${size}`);
  if (seed === undefined) {
    await writeFile(dst, randomBytes(size));
    return;
  }
  // xorshift32 from a string hash: deterministic noise for reproducible corrupt-file tests
  let x = 2166136261;
  for (const c of seed) x = Math.imul(x ^ c.charCodeAt(0), 16777619) >>> 0;
  if (x === 0) x = 1;
  const buf = Buffer.alloc(size);
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buf[i] = x & 0xff;
  }
  await writeFile(dst, buf);
}

/**
 * A GGUF whose header is sound but which makes llama.cpp abort natively while loading it (a chat
 * model with `attention.head_count` patched to 0 trips a GGML_ASSERT in the model loader): the case
 * that must stay inside the engine's child process.
 */
export async function writeEngineCrashingModel(path: string): Promise<void> {
  const { readFile } = await import("node:fs/promises");
  const { writeChatModel } = await import("./scripted-model.js");
  await writeChatModel(path);
  const bytes = await readFile(path);
  const key = Buffer.from("qwen2.attention.head_count");
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(key.length));
  const at = bytes.indexOf(Buffer.concat([length, key]));
  if (at < 0) throw new Error("writeEngineCrashingModel: head_count key not found");
  // key length (8) + key + value type (u32 = 4 bytes), then the value.
  bytes.writeUInt32LE(0, at + 8 + key.length + 4);
  await writeFile(path, bytes);
}
