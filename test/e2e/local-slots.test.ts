/**
 * Every way out of a local stream gives its slot back. A model with one slot (`parallel: 1`) gets
 * requests that end in each way — cut off by max_tokens in JSON mode, failed by the JSON-schema check
 * after the finish, cut by the route's deadline, failed mid-stream by the loop check, canceled by the
 * client — several times over (an engine that dies frees its slots with its requests: see
 * test/router/local-acceptance.test.ts), and then a plain request must get
 * its answer at once rather than wait behind a slot nobody holds. Also: an answer cut off by the
 * token limit reaches the client as truncated (`finish_reason: "length"` and each dialect's
 * equivalent), not as a failed quality check.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI from "openai";
import {
  makeModelDir,
  writeChatModel,
  writeJsonAnswerModel,
  writeLoopingModel,
  writeScriptedModel,
} from "../support/gguf/index.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let tandem: RunningTandem;
let cleanup: () => Promise<void>;
let openai: OpenAI;

/** A JSON answer in several tokens, so that max_tokens can cut it off half-way. */
const JSON_PIECES = ['{"', "answer", '": "', "yes", '"}'];

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  await writeScriptedModel(join(made.dir, "json.gguf"), { script: JSON_PIECES });
  // {"n": 5}: valid JSON the grammar allows, which fails the schema's `minimum` (a grammar cannot say it).
  await writeJsonAnswerModel(join(made.dir, "low.gguf"), { value: { n: 5 } });
  await writeChatModel(join(made.dir, "chat.gguf"));
  // Never stops on its own: "tick tock tick tock ...".
  await writeLoopingModel(join(made.dir, "loop.gguf"));
  tandem = await startTandem({
    providers: {
      local: {
        kind: "llamacpp",
        threads: 1,
        // One slot per model is what makes a leaked slot visible: the next request would wait for it.
        parallel: 1,
        maxQueue: 16,
        models: {
          json: { path: join(made.dir, "json.gguf"), contextSize: 256 },
          low: { path: join(made.dir, "low.gguf"), contextSize: 256 },
          chat: { path: join(made.dir, "chat.gguf"), contextSize: 256 },
          loop: { path: join(made.dir, "loop.gguf"), contextSize: 2048 },
        },
      },
    },
    routes: {
      // A deadline that cuts the endless answer, and no loop check (which would end it first).
      cut: { tiers: ["local/loop"], timeouts: { totalMs: 400 }, quality: { repetition: false } },
      // The loop check ends the endless answer mid-stream.
      checked: { tiers: ["local/loop"], retry: { attempts: 1 } },
    },
  });
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await cleanup?.();
});

/**
 * A plain request to the same model (so to the same slot) must get its whole answer; with a slot
 * leaked it would wait in the queue until the deadline and fail with 504.
 */
async function answersAtOnce(model: string, expected: string): Promise<void> {
  const res = await openai.chat.completions.create(
    { model, messages: [{ role: "user", content: "Hi" }], temperature: 0 },
    { headers: { "x-tandem-deadline-ms": "20000" } },
  );
  assert.equal(res.choices[0]?.message.content, expected, `${model} answers after the requests before`);
}

describe("local slots are released on every way out", () => {
  it("JSON answers cut off by max_tokens pass through as truncated, and free their slot (x3)", async () => {
    for (let i = 0; i < 3; i++) {
      const res = await openai.chat.completions.create({
        model: "local/json",
        messages: [{ role: "user", content: "JSON please" }],
        response_format: { type: "json_object" },
        max_tokens: 2,
        temperature: 0,
      });
      assert.equal(res.choices[0]?.finish_reason, "length");
      assert.equal(res.choices[0]?.message.content, '{"answer');
    }
    await answersAtOnce("local/json", '{"answer": "yes"}');
  });

  it("truncation is reported in each dialect's own terms, streamed too", async () => {
    const stream = await openai.chat.completions.create({
      model: "local/json",
      messages: [{ role: "user", content: "JSON please" }],
      response_format: { type: "json_object" },
      max_tokens: 2,
      stream: true,
      temperature: 0,
    });
    let finish: string | null | undefined;
    for await (const chunk of stream) finish = chunk.choices[0]?.finish_reason ?? finish;
    assert.equal(finish, "length");

    const anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
    const message = await anthropic.messages.create({
      model: "local/json",
      max_tokens: 2,
      messages: [{ role: "user", content: "JSON please" }],
    });
    assert.equal(message.stop_reason, "max_tokens");

    const ollama = new Ollama({ host: tandem.url });
    const chat = await ollama.chat({
      model: "local/json",
      format: "json",
      messages: [{ role: "user", content: "JSON please" }],
      options: { num_predict: 2, temperature: 0 },
    });
    assert.equal(chat.done_reason, "length");
    await answersAtOnce("local/json", '{"answer": "yes"}');
  });

  it("answers that fail the JSON-schema check after their finish free their slot (x3)", async () => {
    const schema = {
      type: "object",
      properties: { n: { type: "number", minimum: 10 } },
      required: ["n"],
      additionalProperties: false,
    };
    for (let i = 0; i < 3; i++) {
      await assert.rejects(
        openai.chat.completions.create({
          model: "local/low",
          messages: [{ role: "user", content: "A number of at least 10" }],
          response_format: { type: "json_schema", json_schema: { name: "n", schema } },
          temperature: 0,
        }),
        (err: unknown) => err instanceof OpenAI.APIError && err.status === 502 && /json_schema/.test(err.message),
      );
    }
    await answersAtOnce("local/low", '{"n": 5}');
  });

  it("answers cut by the route's deadline free their slot (x3), streamed and not", async () => {
    for (let i = 0; i < 3; i++) {
      const stream = i % 2 === 0;
      await assert.rejects(async () => {
        const res = await openai.chat.completions.create({
          model: "cut",
          messages: [{ role: "user", content: "Go" }],
          stream,
          temperature: 0,
        });
        if (stream) for await (const _chunk of res as AsyncIterable<unknown>);
      });
    }
    const res = await openai.chat.completions.create({
      model: "local/loop",
      messages: [{ role: "user", content: "Go" }],
      max_tokens: 4,
      temperature: 0,
    });
    assert.equal(res.choices[0]?.finish_reason, "length");
  });

  it("gives a model named directly its looping answer as it is, cut at the token limit, not a 502", async () => {
    const res = await openai.chat.completions.create({
      model: "local/loop",
      messages: [{ role: "user", content: "Go" }],
      max_tokens: 200,
      temperature: 0,
    });
    assert.equal(res.choices[0]?.finish_reason, "length");
    assert.match(res.choices[0]?.message.content ?? "", /(tick tock ){8}/);
  });

  it("answers failed mid-stream by the loop check free their slot (x3)", async () => {
    for (let i = 0; i < 3; i++) {
      await assert.rejects(
        openai.chat.completions.create({ model: "checked", messages: [{ role: "user", content: "Go" }], temperature: 0 }),
        (err: unknown) => err instanceof OpenAI.APIError && /repetition/.test(err.message),
      );
    }
    const res = await openai.chat.completions.create({
      model: "local/loop",
      messages: [{ role: "user", content: "Go" }],
      max_tokens: 4,
      temperature: 0,
    });
    assert.equal(res.choices[0]?.finish_reason, "length");
  });

  it("streams the client abandons after a few events free their slot (x3)", async () => {
    for (let i = 0; i < 3; i++) {
      const controller = new AbortController();
      const stream = await openai.chat.completions.create(
        { model: "local/chat", messages: [{ role: "user", content: "Hi" }], stream: true, temperature: 0 },
        { signal: controller.signal },
      );
      for await (const _chunk of stream) {
        controller.abort();
        break;
      }
    }
    await answersAtOnce("local/chat", "Hello from tandem.");
  });
});
