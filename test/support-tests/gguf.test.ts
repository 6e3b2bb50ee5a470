/**
 * Tests of test/support/gguf: the GGUF writer, and every scripted-model preset run through the REAL
 * engine (node-llama-cpp 3.22.1, CPU binary, threads 1, greedy sampling), asserting exact outputs.
 */

import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  type ChatHistoryItem,
  defineChatSessionFunction,
  getLlama,
  type Llama,
  LlamaChat,
  LlamaChatSession,
  LlamaCompletion,
  type LlamaContext,
  type LlamaModel,
  readGgufFileInfo,
  resolveChatWrapper,
  type Token,
} from "node-llama-cpp";
import {
  EOS,
  encodeGguf,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  GGUF_DEFAULT_ALIGNMENT,
  gguf,
  longAnswerPieces,
  makeModelDir,
  randomBytesFile,
  type ScriptedModelInfo,
  splitScript,
  truncatedCopy,
  writeBigramModel,
  writeChatModel,
  writeGgufFile,
  writeJsonAnswerModel,
  writeLongAnswerModel,
  writeLoopingModel,
  writeScriptedModel,
  writeToolCallModel,
} from "../support/gguf/index.js";

const WEATHER_FUNCTIONS = {
  get_weather: {
    description: "Get the current weather in a city",
    params: {
      type: "object",
      properties: { city: { type: "string" } },
      required: ["city"],
    },
  },
} as const;

const USER_ASKS_WEATHER: ChatHistoryItem[] = [
  { type: "system", text: "You are a helpful assistant." },
  { type: "user", text: "What's the weather in Paris?" },
];

function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Greedy raw-token generation straight on a context sequence, stopping at EOG or `limit`. */
async function generateRawTokens(context: LlamaContext, model: LlamaModel, prompt: Token[], limit: number): Promise<Token[]> {
  const sequence = context.getSequence();
  try {
    const out: Token[] = [];
    for await (const token of sequence.evaluate(prompt, { temperature: 0, yieldEogToken: true })) {
      out.push(token);
      if (model.isEogToken(token) || out.length >= limit) break;
    }
    return out;
  } finally {
    sequence.dispose();
  }
}

describe("GGUF writer", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ dir, cleanup } = await makeModelDir());
  });
  after(async () => cleanup());

  test("writes every metadata type, aligned tensor data, and node-llama-cpp reads it back", async () => {
    const path = join(dir, "kv.gguf");
    const f32 = Float32Array.from([1.5, -2, 3.25, 0, 7, 8]);
    const encoded = await writeGgufFile(path, {
      metadata: [
        ["general.architecture", "llama"],
        ["test.u8", gguf.u8(200)],
        ["test.i8", gguf.i8(-100)],
        ["test.u16", gguf.u16(60000)],
        ["test.i16", gguf.i16(-30000)],
        ["test.u32", gguf.u32(4000000000)],
        ["test.i32", gguf.i32(-2000000000)],
        ["test.f32", gguf.f32(0.5)],
        ["test.f64", gguf.f64(1.25e100)],
        ["test.u64", gguf.u64(2n ** 60n)],
        ["test.i64", gguf.i64(-(2n ** 60n))],
        ["test.bool", true],
        ["test.str", "héllo ✓"],
        ["test.strings", ["a", "", "ü", "<0x0A>"]],
        ["test.floats", gguf.f32s([0.25, -1])],
        ["test.ints", gguf.i32s([-1, 2, 3])],
        ["test.bools", gguf.bools([true, false])],
        ["test.nested", gguf.arrays([gguf.u32s([1, 2]), gguf.u32s([3])])],
      ],
      tensors: [
        { name: "a", dims: [3, 2], data: f32 },
        { name: "b", dims: [5], data: [1, 2, 3, 4, 5] },
        { name: "c", dims: [4], data: [1, 0.5, -2, 65504], type: "F16" },
      ],
    });

    const bytes = await readFile(path);
    assert.equal(bytes.subarray(0, 4).toString("ascii"), "GGUF");
    assert.equal(bytes.readUInt32LE(4), 3);
    assert.equal(bytes.readBigUInt64LE(8), 3n); // tensors
    assert.equal(bytes.readBigUInt64LE(16), 19n); // 18 entries + general.alignment
    assert.equal(encoded.dataOffset % GGUF_DEFAULT_ALIGNMENT, 0);
    for (const t of encoded.tensors) assert.equal(t.offset % GGUF_DEFAULT_ALIGNMENT, 0, t.name);
    assert.deepEqual(
      encoded.tensors.map((t) => [t.name, t.offset, t.byteLength]),
      [
        ["a", 0, 24],
        ["b", 32, 20],
        ["c", 64, 8],
      ],
    );
    assert.equal(bytes.length % GGUF_DEFAULT_ALIGNMENT, 0);
    const a = encoded.tensors[0]!;
    assert.deepEqual(
      Array.from(
        new Float32Array(
          bytes.buffer.slice(
            bytes.byteOffset + encoded.dataOffset + a.offset,
            bytes.byteOffset + encoded.dataOffset + a.offset + 24,
          ),
        ),
      ),
      Array.from(f32),
    );
    const c = encoded.tensors[2]!;
    const cAt = encoded.dataOffset + c.offset;
    assert.deepEqual(
      [0, 1, 2, 3].map((i) => float16BitsToFloat32(bytes.readUInt16LE(cAt + i * 2))),
      [1, 0.5, -2, 65504],
    );

    const info = await readGgufFileInfo(path, { readTensorInfo: true, logWarnings: false });
    assert.equal(info.version, 3);
    const md: unknown = info.metadata;
    assert.equal(getPath(md, "general.alignment"), 32);
    assert.equal(getPath(md, "test.u8"), 200);
    assert.equal(getPath(md, "test.i8"), -100);
    assert.equal(getPath(md, "test.u16"), 60000);
    assert.equal(getPath(md, "test.i16"), -30000);
    assert.equal(getPath(md, "test.u32"), 4000000000);
    assert.equal(getPath(md, "test.i32"), -2000000000);
    assert.equal(getPath(md, "test.f32"), 0.5);
    assert.equal(getPath(md, "test.f64"), 1.25e100);
    assert.equal(getPath(md, "test.u64"), 2n ** 60n);
    assert.equal(getPath(md, "test.i64"), -(2n ** 60n));
    assert.equal(getPath(md, "test.bool"), true);
    assert.equal(getPath(md, "test.str"), "héllo ✓");
    assert.deepEqual(getPath(md, "test.strings"), ["a", "", "ü", "<0x0A>"]);
    assert.deepEqual(getPath(md, "test.floats"), [0.25, -1]);
    assert.deepEqual(getPath(md, "test.ints"), [-1, 2, 3]);
    assert.deepEqual(getPath(md, "test.bools"), [true, false]);
    assert.deepEqual(getPath(md, "test.nested"), [[1, 2], [3]]);
    assert.deepEqual(
      info.fullTensorInfo?.map((t) => [t.name, t.dimensions.map(Number), t.ggmlType, Number(t.offset), Number(t.fileOffset)]),
      [
        ["a", [3, 2], 0, 0, encoded.dataOffset],
        ["b", [5], 0, 32, encoded.dataOffset + 32],
        ["c", [4], 1, 64, encoded.dataOffset + 64],
      ],
    );
  });

  test("rejects what GGUF cannot hold", () => {
    assert.throws(() => encodeGguf({ metadata: { "x.y": gguf.u8(256) } }), /out of range/);
    assert.throws(
      () =>
        encodeGguf({
          metadata: [
            ["k", 1],
            ["k", 2],
          ],
        }),
      /duplicate metadata key/,
    );
    assert.throws(() => encodeGguf({ metadata: {}, tensors: [{ name: "t", dims: [2, 2], data: [1, 2, 3] }] }), /need 4/);
    assert.throws(() => encodeGguf({ metadata: {}, alignment: 12 }), /multiple of 8/);
  });

  test("float16 conversion rounds to nearest even", () => {
    assert.equal(float32ToFloat16Bits(1), 0x3c00);
    assert.equal(float32ToFloat16Bits(-2), 0xc000);
    assert.equal(float32ToFloat16Bits(65504), 0x7bff);
    assert.equal(float32ToFloat16Bits(1e6), 0x7c00);
    assert.equal(float32ToFloat16Bits(0.1), 0x2e66);
    assert.equal(float32ToFloat16Bits(2 ** -24), 0x0001);
    assert.equal(float32ToFloat16Bits(1 + 2 ** -11), 0x3c00); // tie -> even
    assert.equal(float32ToFloat16Bits(1 + 3 * 2 ** -11), 0x3c02); // tie -> even (up)
    assert.ok(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(Number.NaN))));
  });

  test("splitScript keeps pieces distinct", () => {
    assert.deepEqual(splitScript("Hello from tandem."), ["Hello", " from", " tandem."]);
    assert.deepEqual(splitScript("a b a b"), ["a", " b", " a b"]);
    assert.deepEqual(splitScript("x x"), ["x", " x"]);
    assert.deepEqual(splitScript("go go go"), ["go", " go go"]);
    for (const text of ["go go go", "a b a b", "x x", "one two\n\none two\n"]) {
      const pieces = splitScript(text);
      assert.equal(pieces.join(""), text);
      assert.equal(new Set(pieces).size, pieces.length);
    }
  });
});

describe("scripted models on the real engine", () => {
  let llama: Llama;
  let dir: string;
  let cleanup: () => Promise<void>;

  before(async () => {
    ({ dir, cleanup } = await makeModelDir());
    llama = await getLlama({ gpu: false, build: "never" });
  });
  after(async () => {
    // Not awaited: llama.dispose() can wait on native work with nothing left on the event loop, which
    // the test runner reports as a pending promise. The process ends right after this suite anyway.
    void llama.dispose();
    await cleanup();
  });

  /** Loads a model once, gives the test a 512-token context (threads: 1) and disposes both after. */
  async function withModel(
    info: ScriptedModelInfo,
    run: (model: LlamaModel, context: LlamaContext) => Promise<void>,
    contextSize = 512,
  ): Promise<void> {
    const model = await llama.loadModel({ modelPath: info.path });
    const context = await model.createContext({ contextSize, threads: 1, sequences: 2 });
    try {
      await run(model, context);
    } finally {
      await context.dispose();
      await model.dispose();
    }
  }

  test("(a) chat model: exact answer through LlamaChat, LlamaCompletion and raw tokens; QwenChatWrapper", async () => {
    const info = await writeChatModel(join(dir, "chat.gguf"));
    assert.equal(info.expectedText, "Hello from tandem.");
    assert.deepEqual(info.scriptPieces, ["Hello", " from", " tandem."]);
    assert.equal((await stat(info.path)).size, info.fileSize);
    await withModel(info, async (model, context) => {
      assert.equal(resolveChatWrapper(model).wrapperName, "Qwen");
      const eos = model.tokens.eos;
      assert.ok(eos !== null);
      assert.equal(eos, info.eosTokenId);
      assert.equal(model.detokenize([eos], true), "<|im_end|>");

      // The tokenizer handles arbitrary text (byte fallback) and round-trips it.
      const odd = "Ünïcødé 🚀 tabs\tand\nnew lines <b>x</b> weather";
      assert.equal(model.detokenize(model.tokenize(odd)), odd);

      const chat = new LlamaChat({ contextSequence: context.getSequence() });
      assert.equal(chat.chatWrapper.wrapperName, "Qwen");
      const res = await chat.generateResponse([...USER_ASKS_WEATHER, { type: "model", response: [] }], { maxTokens: 20 });
      assert.equal(res.response, "Hello from tandem.");
      assert.equal(res.metadata.stopReason, "eogToken");
      chat.dispose({ disposeSequence: true });

      const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
      const text = await completion.generateCompletion("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", {
        maxTokens: 20,
      });
      assert.equal(text, "Hello from tandem.");
      completion.dispose({ disposeSequence: true });

      const prompt = model.tokenize("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", true);
      assert.equal(prompt[0], model.tokenize("<|im_start|>", true)[0]);
      const raw = await generateRawTokens(context, model, prompt, 10);
      assert.deepEqual(raw.map(Number), [...info.scriptTokenIds, info.eosTokenId]);
    });
  });

  test("(a') same answer with F16 weights, and with the llama3.1 / plain families", async () => {
    const cases = [
      { family: "qwen2.5", tensorType: "F16", wrapper: "Qwen" },
      { family: "llama3.1", tensorType: "F32", wrapper: "Llama 3.1" },
      { family: "plain", tensorType: "F32", wrapper: "General" },
    ] as const;
    for (const c of cases) {
      const info = await writeChatModel(join(dir, `chat-${c.family}-${c.tensorType}.gguf`), {
        family: c.family,
        tensorType: c.tensorType,
      });
      await withModel(info, async (_model, context) => {
        const chat = new LlamaChat({ contextSequence: context.getSequence() });
        assert.equal(chat.chatWrapper.wrapperName, c.wrapper, c.family);
        const res = await chat.generateResponse([{ type: "user", text: "Hi" }], { maxTokens: 20 });
        assert.equal(res.response, "Hello from tandem.", `${c.family} ${c.tensorType}`);
      });
    }
  });

  test("triggerAfter: the script starts only after the trigger text", async () => {
    const info = await writeScriptedModel(join(dir, "trigger.gguf"), {
      script: "Only after the trigger.",
      triggerAfter: "assistant\n",
    });
    await withModel(info, async (_model, context) => {
      const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
      assert.equal(await completion.generateCompletion("<|im_start|>assistant\n", { maxTokens: 20 }), "Only after the trigger.");
      assert.equal(await completion.generateCompletion("no trigger here", { maxTokens: 20 }), "");
    });
  });

  test("(b) tool-call model: exactly one get_weather({city: Paris}) in functionCalls", async () => {
    const info = await writeToolCallModel(join(dir, "tool.gguf"));
    assert.equal(info.expectedText, '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>');
    await withModel(
      info,
      async (_model, context) => {
        const chat = new LlamaChat({ contextSequence: context.getSequence() });
        assert.equal(chat.chatWrapper.wrapperName, "Qwen");
        const res = await chat.generateResponse([...USER_ASKS_WEATHER, { type: "model", response: [] }], {
          maxTokens: 50,
          functions: WEATHER_FUNCTIONS,
        });
        assert.equal(res.metadata.stopReason, "functionCalls");
        assert.equal(res.response, "");
        assert.deepEqual(
          res.functionCalls?.map((c) => ({ functionName: c.functionName, params: c.params })),
          [{ functionName: "get_weather", params: { city: "Paris" } }],
        );
        chat.dispose({ disposeSequence: true });

        // Free-running, it writes Qwen2.5's own tool-call format, token for token.
        const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
        assert.equal(await completion.generateCompletion("<|im_start|>assistant\n", { maxTokens: 20 }), info.expectedText);
        // ...and once a tool result is in the prompt, the final answer.
        assert.equal(
          await completion.generateCompletion(
            '<|im_start|>user\n<tool_response>\n{"weather": "sunny"}\n</tool_response><|im_end|>\n<|im_start|>assistant\n',
            { maxTokens: 20 },
          ),
          "It is sunny in Paris.",
        );
        completion.dispose({ disposeSequence: true });

        // A full round trip: the session calls the function once, feeds the result back, gets the answer.
        const session = new LlamaChatSession({ contextSequence: context.getSequence() });
        const calls: unknown[] = [];
        const answer = await session.prompt("What's the weather in Paris?", {
          maxTokens: 60,
          functions: {
            get_weather: defineChatSessionFunction({
              ...WEATHER_FUNCTIONS.get_weather,
              handler(params) {
                calls.push(params);
                return { weather: "sunny" };
              },
            }),
          },
        });
        assert.deepEqual(calls, [{ city: "Paris" }]);
        assert.equal(answer, "It is sunny in Paris.");
      },
      1024,
    );
  });

  test("(b') tool-call model, llama3.1 family: Llama3_1ChatWrapper's <function=...> format", async () => {
    const info = await writeToolCallModel(join(dir, "tool-llama.gguf"), { family: "llama3.1" });
    assert.equal(info.expectedText, '<function=get_weather>{"city": "Paris"}</function>');
    await withModel(
      info,
      async (_model, context) => {
        const chat = new LlamaChat({ contextSequence: context.getSequence() });
        assert.equal(chat.chatWrapper.wrapperName, "Llama 3.1");
        const res = await chat.generateResponse([...USER_ASKS_WEATHER, { type: "model", response: [] }], {
          maxTokens: 50,
          functions: WEATHER_FUNCTIONS,
        });
        assert.deepEqual(
          res.functionCalls?.map((c) => ({ functionName: c.functionName, params: c.params })),
          [{ functionName: "get_weather", params: { city: "Paris" } }],
        );
      },
      1024,
    );
  });

  test("(c) looping model never stops: maxTokens and abort", async () => {
    const info = await writeLoopingModel(join(dir, "loop.gguf"));
    await withModel(info, async (_model, context) => {
      const chat = new LlamaChat({ contextSequence: context.getSequence() });
      const res = await chat.generateResponse([{ type: "user", text: "Go" }], { maxTokens: 30 });
      assert.equal(res.metadata.stopReason, "maxTokens");
      assert.equal(res.response, "tick tock ".repeat(10));

      const controller = new AbortController();
      let chunks = 0;
      const aborted = await chat.generateResponse([{ type: "user", text: "Go" }], {
        maxTokens: 400,
        signal: controller.signal,
        stopOnAbortSignal: true,
        onTextChunk() {
          chunks += 1;
          if (chunks === 12) controller.abort();
        },
      });
      assert.equal(aborted.metadata.stopReason, "abort");
      assert.ok(aborted.response.startsWith("tick tock tick"));
    });
  });

  test("(d) long answer: exactly N tokens, then EOS", async () => {
    const info = await writeLongAnswerModel(join(dir, "long.gguf"), { tokenCount: 100 });
    assert.equal(info.expectedText, longAnswerPieces(100).join(""));
    await withModel(info, async (_model, context) => {
      const chat = new LlamaChat({ contextSequence: context.getSequence() });
      let tokens = 0;
      const res = await chat.generateResponse([{ type: "user", text: "Count" }], {
        maxTokens: 200,
        onToken(t) {
          tokens += t.length;
        },
      });
      assert.equal(res.response, info.expectedText);
      assert.equal(res.metadata.stopReason, "eogToken");
      assert.equal(tokens, 100);
    });
  });

  test("(e) JSON answer: parses, with and without a JSON grammar", async () => {
    const info = await writeJsonAnswerModel(join(dir, "json.gguf"));
    assert.equal(info.expectedText, '{"answer": "yes"}');
    await withModel(info, async (_model, context) => {
      const chat = new LlamaChat({ contextSequence: context.getSequence() });
      const plain = await chat.generateResponse([{ type: "user", text: "JSON please" }], { maxTokens: 20 });
      assert.deepEqual(JSON.parse(plain.response), { answer: "yes" });
      const jsonGrammar = await llama.getGrammarFor("json");
      const viaGrammar = await chat.generateResponse([{ type: "user", text: "JSON please" }], {
        maxTokens: 20,
        grammar: jsonGrammar,
      });
      assert.deepEqual(JSON.parse(viaGrammar.response), { answer: "yes" });
      const schemaGrammar = await llama.createGrammarForJsonSchema({
        type: "object",
        properties: { answer: { type: "string" } },
        required: ["answer"],
      } as const);
      const viaSchema = await chat.generateResponse([{ type: "user", text: "JSON please" }], {
        maxTokens: 20,
        grammar: schemaGrammar,
      });
      assert.deepEqual(schemaGrammar.parse(viaSchema.response), { answer: "yes" });
    });
  });

  test("bigram machine: ranked successors fall back when a grammar rejects the first choice", async () => {
    const info = await writeBigramModel(
      join(dir, "ranked.gguf"),
      {
        start: ["maybe", "yes"],
        transitions: [
          { from: "maybe", to: [EOS] },
          { from: "yes", to: [EOS] },
        ],
      },
      { family: "qwen2.5" },
    );
    await withModel(info, async (_model, context) => {
      const chat = new LlamaChat({ contextSequence: context.getSequence() });
      assert.equal((await chat.generateResponse([{ type: "user", text: "?" }], { maxTokens: 5 })).response, "maybe");
      const grammar = await llama.createGrammar({ grammar: 'root ::= "yes" | "no"' });
      assert.equal((await chat.generateResponse([{ type: "user", text: "?" }], { maxTokens: 5, grammar })).response, "yes");
    });
  });

  test("corrupt models: truncated copies and random bytes fail to load", async () => {
    const good = await writeChatModel(join(dir, "good.gguf"));
    const half = join(dir, "half.gguf");
    await truncatedCopy(good.path, half, Math.floor(good.fileSize / 2));
    assert.equal((await stat(half)).size, Math.floor(good.fileSize / 2));
    const headerOnly = join(dir, "header.gguf");
    await truncatedCopy(good.path, headerOnly, 24);
    const noise = join(dir, "noise.gguf");
    await randomBytesFile(noise, 4096, "seed");
    const noise2 = join(dir, "noise2.gguf");
    await randomBytesFile(noise2, 4096, "seed");
    assert.deepEqual(await readFile(noise), await readFile(noise2));
    for (const path of [half, headerOnly, noise]) {
      await assert.rejects(llama.loadModel({ modelPath: path }), path);
    }
    await assert.rejects(truncatedCopy(good.path, half, good.fileSize + 1), /only/);
  });
});
