import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { readGgufFileInfo as ReadGgufFileInfo } from "node-llama-cpp";
import {
  chatTemplateThinks,
  fileTypeName,
  GgufError,
  type GgufValue,
  ggmlTypeName,
  isGgufArray,
  readGgufHeader,
  readGgufInfo,
} from "../../src/models/index.js";
import { buildGguf, buildLlamaLikeGguf } from "./gguf-builder.js";

const MODELS = fileURLToPath(new URL("../../../shared/models/", import.meta.url));
const STORIES = join(MODELS, "stories260K.gguf");
const TINY_RANDOM = join(MODELS, "llama-2-tiny-random.gguf");

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "tandem-gguf-"));
}

function write(dir: string, name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

async function rejectsGguf(path: string, pattern: RegExp): Promise<GgufError> {
  let caught: unknown;
  try {
    await readGgufInfo(path);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof GgufError, `expected a GgufError, got ${String(caught)}`);
  assert.ok(caught.message.startsWith(`${path}: `), `the message names the file: ${caught.message}`);
  assert.match(caught.message, pattern);
  return caught;
}

describe("GGUF header reader on the real tiny models", () => {
  it("reads stories260K: llama, context 2048, embedding 64, 5 blocks, F32 (guessed: the file has no general.file_type)", async () => {
    const info = await readGgufInfo(STORIES);
    assert.equal(info.version, 3);
    assert.equal(info.architecture, "llama");
    assert.equal(info.name, "llama");
    assert.equal(info.contextLength, 2048);
    assert.equal(info.embeddingLength, 64);
    assert.equal(info.blockCount, 5);
    assert.equal(info.fileType, undefined);
    assert.equal(info.quantization, "F32");
    assert.equal(info.quantizationGuessed, true);
    assert.equal(info.hasChatTemplate, false);
    assert.equal(info.tensorCount, 48);
    assert.equal(info.fileSize, 1_185_376);
    const tokens = info.metadata.get("tokenizer.ggml.tokens");
    assert.ok(isGgufArray(tokens));
    assert.equal(tokens.length, 512);
    assert.equal(tokens.items, undefined, "a vocabulary longer than maxArrayItems is skipped, not kept");
  });

  it("reads llama-2-tiny-random: context 4096, F16 from general.file_type, no chat template", async () => {
    const info = await readGgufInfo(TINY_RANDOM);
    assert.equal(info.architecture, "llama");
    assert.equal(info.name, "LLaMA v2");
    assert.equal(info.contextLength, 4096);
    assert.equal(info.embeddingLength, 8);
    assert.equal(info.blockCount, 1);
    assert.equal(info.fileType, 1);
    assert.equal(info.quantization, "F16");
    assert.equal(info.quantizationGuessed, false);
    assert.equal(info.hasChatTemplate, false);
    assert.equal(info.tensorCount, 12);
  });

  it("agrees with node-llama-cpp's own GGUF parser on every metadata value and tensor", async () => {
    // Its GGUF module alone: the package entry point loads far more than a parser and takes seconds.
    const { readGgufFileInfo } = (await import(
      new URL("./gguf/readGgufFileInfo.js", import.meta.resolve("node-llama-cpp")).href
    )) as {
      readGgufFileInfo: typeof ReadGgufFileInfo;
    };
    for (const path of [STORIES, TINY_RANDOM]) {
      const ours = await readGgufHeader(path, { maxArrayItems: 100_000 });
      const theirs = await readGgufFileInfo(path, { readTensorInfo: true, logWarnings: false });
      assert.equal(ours.tensorCount, theirs.tensorCount);
      const flat = flatten(theirs.metadata as unknown as Record<string, unknown>);
      assert.deepEqual([...ours.metadata.keys()].sort(), Object.keys(flat).sort());
      // Compared as JSON: deepEqual on 32000-token vocabularies is slow.
      for (const [key, value] of ours.metadata) {
        assert.ok(JSON.stringify(plain(value)) === JSON.stringify(plainTheirs(flat[key])), `metadata ${key} differs`);
      }
      assert.deepEqual(
        ours.tensors.map((t) => [t.name, t.type, Number(t.offset), t.dimensions.map(Number)]),
        (theirs.tensorInfo ?? []).map((t) => [t.name, t.ggmlType, Number(t.offset), t.dimensions.map(Number)]),
      );
    }
  });
});

/** node-llama-cpp nests metadata by key segments; flatten it back to GGUF's dotted keys. */
function flatten(object: Record<string, unknown>, prefix = ""): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(object)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === "object" && !Array.isArray(v) && !ArrayBuffer.isView(v))
      Object.assign(out, flatten(v as Record<string, unknown>, key));
    else out[key] = v;
  }
  return out;
}

function plain(value: GgufValue): unknown {
  if (isGgufArray(value)) return (value.items ?? []).map(plain);
  return typeof value === "bigint" ? Number(value) : value;
}

function plainTheirs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plainTheirs);
  return typeof value === "bigint" ? Number(value) : value;
}

describe("a chat template's thinking mode", () => {
  it("is read from the thinking families' marks, and not from a template without them", () => {
    for (const template of [
      "{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}",
      "{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}",
      "{{- '<|start|>assistant<|channel|>analysis<|message|>' + message.thinking + '<|end|>' }}",
      "{%- if message.reasoning_content %}{{ message.reasoning_content }}{% endif %}",
      "[THINK]{{ message.thinking }}[/THINK]",
      "<seed:think>{{ reasoning }}</seed:think>",
    ])
      assert.equal(chatTemplateThinks(template), true, template);
    for (const template of [
      "{% for message in messages %}<|im_start|>{{ message.role }}\n{{ message.content }}<|im_end|>\n{% endfor %}",
      "{{ bos_token }}{% for m in messages %}[INST] Think step by step: {{ m.content }} [/INST]{% endfor %}",
    ])
      assert.equal(chatTemplateThinks(template), false, template);
  });
});

describe("GGUF header reader on broken files", () => {
  it("rejects truncated copies of a real model with a message naming the file and the truncation", async () => {
    const dir = tempDir();
    const bytes = readFileSync(STORIES);
    const header = await readGgufHeader(STORIES);
    // Inside the magic, the counts, a key, the vocabulary, the tensor infos, and the tensor data.
    for (const cut of [0, 3, 7, 20, 40, 200, 5_000, header.dataOffset - 100, header.dataOffset + 1000, bytes.length - 200_000]) {
      const path = write(dir, `cut-${cut}.gguf`, bytes.subarray(0, cut));
      await rejectsGguf(path, cut < 4 ? /not a GGUF file: only \d+ bytes/ : /truncated|claims .* remain|cannot be right/);
    }
  });

  it("rejects random bytes, an empty file, a directory and a missing file", async () => {
    const dir = tempDir();
    await rejectsGguf(
      write(dir, "random.gguf", randomBytes(4096)),
      /not a GGUF file: starts with 0x[0-9a-f]{8}, expected "GGUF"/,
    );
    await rejectsGguf(write(dir, "empty.gguf", Buffer.alloc(0)), /not a GGUF file: only 0 bytes long/);
    const sub = join(dir, "folder.gguf");
    mkdirSync(sub);
    await rejectsGguf(sub, /not a regular file/);
    await rejectsGguf(join(dir, "missing.gguf"), /cannot open: ENOENT/);
  });

  it("rejects GGUF magic followed by random bytes without hanging or allocating from bogus lengths", async () => {
    const dir = tempDir();
    for (let i = 0; i < 30; i++) {
      const bytes = Buffer.concat([Buffer.from("GGUF"), Buffer.from([3, 0, 0, 0]), randomBytes(2048)]);
      const path = write(dir, `magic-${i}.gguf`, bytes);
      // A hang fails by the test's timeout; an allocation from a bogus length would not end in a GgufError.
      await rejectsGguf(path, /./);
    }
  });

  it("rejects lengths and counts the file cannot hold, before reading or allocating them", async () => {
    const dir = tempDir();
    const huge = (patch: (b: Buffer) => void, base = buildLlamaLikeGguf()) => {
      const b = Buffer.from(base);
      patch(b);
      return b;
    };
    // Header: magic(4) version(4) tensors(8) kvs(8); the first key's length is at 24.
    await rejectsGguf(
      write(
        dir,
        "tensors.gguf",
        huge((b) => b.writeBigUInt64LE(1n << 60n, 8)),
      ),
      /tensor count 1152921504606846976 cannot be right/,
    );
    await rejectsGguf(
      write(
        dir,
        "kvs.gguf",
        huge((b) => b.writeBigUInt64LE(1n << 40n, 16)),
      ),
      /metadata count 1099511627776 cannot be right/,
    );
    await rejectsGguf(
      write(
        dir,
        "key.gguf",
        huge((b) => b.writeBigUInt64LE(1n << 40n, 24)),
      ),
      /the key of metadata entry 1 of \d+ claims 1099511627776 bytes but only \d+ remain/,
    );
    const longValue = buildGguf({ metadata: [["general.name", { type: "string", value: "x" }]] });
    // key length(8) + "general.name"(12) + type(4): the value's length is at 24 + 24.
    await rejectsGguf(
      write(
        dir,
        "value.gguf",
        huge((b) => b.writeBigUInt64LE(0xffffffffffffn, 48), longValue),
      ),
      /the value of metadata entry 1 of 1 \('general\.name'\) claims 281474976710655 bytes/,
    );
    const array = buildGguf({ metadata: [["a", { type: "array", itemType: "uint32", items: [{ type: "uint32", value: 1 }] }]] });
    // key length(8) + "a"(1) + type(4) + item type(4): the count is at 24 + 17.
    await rejectsGguf(
      write(
        dir,
        "array.gguf",
        huge((b) => b.writeBigUInt64LE(1n << 50n, 41), array),
      ),
      /claims 1125899906842624 uint32 items/,
    );
    const badType = buildGguf({ metadata: [["a", { type: "uint8", value: 1 }]] });
    await rejectsGguf(
      write(
        dir,
        "type.gguf",
        huge((b) => b.writeUInt32LE(99, 33), badType),
      ),
      /'a'\) has unknown value type 99/,
    );
  });

  it("rejects GGUF version 1 and unknown versions, and reads a big-endian file", async () => {
    const dir = tempDir();
    await rejectsGguf(write(dir, "v1.gguf", buildGguf({ version: 1 })), /GGUF version 1 is not supported/);
    await rejectsGguf(write(dir, "v9.gguf", buildGguf({ version: 9 })), /unsupported GGUF version 9/);
    const bigEndian = buildGguf({
      littleEndian: false,
      metadata: [
        ["general.architecture", { type: "string", value: "qwen2" }],
        ["qwen2.context_length", { type: "uint64", value: 32768n }],
        ["general.file_type", { type: "uint32", value: 15 }],
      ],
      tensors: [{ name: "w", dims: [4n], type: 12, offset: 0n }],
      dataBytes: 256,
    });
    const path = write(dir, "bigendian.gguf", bigEndian);
    assert.equal((await readGgufHeader(path)).littleEndian, false);
    const info = await readGgufInfo(path);
    assert.equal(info.architecture, "qwen2");
    assert.equal(info.contextLength, 32768);
    assert.equal(info.quantization, "Q4_K_M");
  });

  it("rejects a file cut short after its header: a tensor starts past the end", async () => {
    const dir = tempDir();
    const bytes = buildGguf({
      tensors: [
        { name: "a", dims: [64n], type: 0, offset: 0n },
        { name: "b", dims: [64n], type: 0, offset: 256n },
      ],
      dataBytes: 128,
    });
    await rejectsGguf(
      write(dir, "short.gguf", bytes),
      /file is truncated: tensor 'b' starts at byte \d+ but the file has only \d+ bytes/,
    );
  });

  it("stops when aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(readGgufInfo(STORIES, { signal: controller.signal }), { name: "AbortError" });
  });
});

describe("GGUF metadata values and file types", () => {
  it("reads every value type, nested arrays, and keeps short arrays only", async () => {
    const dir = tempDir();
    const path = write(
      dir,
      "types.gguf",
      buildGguf({
        metadata: [
          ["u8", { type: "uint8", value: 250 }],
          ["i8", { type: "int8", value: -5 }],
          ["u16", { type: "uint16", value: 65000 }],
          ["i16", { type: "int16", value: -30000 }],
          ["u32", { type: "uint32", value: 4_000_000_000 }],
          ["i32", { type: "int32", value: -2_000_000_000 }],
          ["f32", { type: "float32", value: 0.5 }],
          ["bool", { type: "bool", value: true }],
          ["str", { type: "string", value: "héllo {{ messages }}" }],
          ["u64", { type: "uint64", value: 18_000_000_000_000_000_000n }],
          ["i64", { type: "int64", value: -9_000_000_000_000_000_000n }],
          ["f64", { type: "float64", value: -1.25 }],
          [
            "nested",
            {
              type: "array",
              itemType: "array",
              items: [
                { type: "array", itemType: "string", items: [{ type: "string", value: "a" }] },
                { type: "array", itemType: "string", items: [] },
              ],
            },
          ],
          [
            "long",
            {
              type: "array",
              itemType: "int32",
              items: Array.from({ length: 300 }, (_, i) => ({ type: "int32" as const, value: i })),
            },
          ],
          ["tokenizer.chat_template", { type: "string", value: "{% for m in messages %}{{ m.content }}{% endfor %}" }],
        ],
      }),
    );
    const { metadata } = await readGgufHeader(path);
    assert.equal(metadata.get("u8"), 250);
    assert.equal(metadata.get("i8"), -5);
    assert.equal(metadata.get("u16"), 65000);
    assert.equal(metadata.get("i16"), -30000);
    assert.equal(metadata.get("u32"), 4_000_000_000);
    assert.equal(metadata.get("i32"), -2_000_000_000);
    assert.equal(metadata.get("f32"), 0.5);
    assert.equal(metadata.get("bool"), true);
    assert.equal(metadata.get("str"), "héllo {{ messages }}");
    assert.equal(metadata.get("u64"), 18_000_000_000_000_000_000n);
    assert.equal(metadata.get("i64"), -9_000_000_000_000_000_000n);
    assert.equal(metadata.get("f64"), -1.25);
    assert.deepEqual(metadata.get("nested"), {
      type: "array",
      itemType: "array",
      length: 2,
      items: [
        { type: "array", itemType: "string", length: 1, items: ["a"] },
        { type: "array", itemType: "string", length: 0, items: [] },
      ],
    });
    assert.deepEqual(metadata.get("long"), { type: "array", itemType: "int32", length: 300 });
    const info = await readGgufInfo(path);
    assert.equal(info.hasChatTemplate, true);
    assert.match(info.chatTemplate ?? "", /messages/);
    assert.equal(info.quantization, undefined, "no file type and no tensors: nothing to guess from");
  });

  it("maps llama.cpp's file types and ggml tensor types to quantization names", () => {
    assert.equal(fileTypeName(0), "F32");
    assert.equal(fileTypeName(1), "F16");
    assert.equal(fileTypeName(2), "Q4_0");
    assert.equal(fileTypeName(7), "Q8_0");
    assert.equal(fileTypeName(15), "Q4_K_M");
    assert.equal(fileTypeName(14), "Q4_K_S");
    assert.equal(fileTypeName(18), "Q6_K");
    assert.equal(fileTypeName(30), "IQ4_XS");
    assert.equal(fileTypeName(32), "BF16");
    assert.equal(fileTypeName(15 | 1024), "Q4_K_M");
    assert.equal(fileTypeName(999), "unknown(999)");
    assert.equal(ggmlTypeName(12), "Q4_K");
    assert.equal(ggmlTypeName(8), "Q8_0");
  });

  it("guesses a K-quant file type the way llama.cpp does when general.file_type is missing", async () => {
    const dir = tempDir();
    const path = write(
      dir,
      "guess.gguf",
      buildGguf({
        tensors: [
          { name: "a", dims: [256n], type: 12, offset: 0n },
          { name: "b", dims: [256n], type: 12, offset: 256n },
          { name: "norm", dims: [4n], type: 0, offset: 512n },
        ],
        dataBytes: 1024,
      }),
    );
    const info = await readGgufInfo(path);
    assert.equal(info.quantization, "Q4_K_M");
    assert.equal(info.quantizationGuessed, true);
  });
});
