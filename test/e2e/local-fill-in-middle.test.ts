/**
 * Fill-in-the-middle and raw prompts on the real embedded engine, through a real tandem and the
 * official clients: Ollama's /api/generate `suffix` and `raw: true`, and OpenAI's legacy completions
 * (`prompt` continued as text, `suffix` filled in). The model is a scripted bigram machine with
 * Qwen2.5-Coder's FIM tokens: it writes the middle only after the middle token, continues "Once upon
 * a time" only when that is the prompt's end, and answers "Templated." after anything else (a chat
 * template's "assistant\n" too), so each answer shows which prompt the engine evaluated.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { MIDDLE, OTHER, PREFIX, STORY, STORY_END, SUFFIX, writeFimModels } from "../support/gguf/fim-models.js";
import { makeModelDir } from "../support/gguf/index.js";
import { loadLocalModel, PATIENT_TIMEOUTS, type RunningTandem, startTandem } from "../support/tandem.js";

let tandem: RunningTandem;
let ollama: Ollama;
let openai: OpenAI;
let cleanup: () => Promise<void>;

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  await writeFimModels(made.dir);
  tandem = await startTandem({
    providers: {
      local: {
        kind: "llamacpp",
        threads: 1,
        models: {
          coder: { path: join(made.dir, "coder.gguf"), contextSize: 256 },
          plain: { path: join(made.dir, "plain.gguf"), contextSize: 256 },
        },
      },
    },
    routes: {
      code: { tiers: ["local/coder"], timeouts: PATIENT_TIMEOUTS },
      "plain-first": { tiers: ["local/plain", "local/coder"], timeouts: PATIENT_TIMEOUTS },
    },
  });
  await loadLocalModel(tandem, "local/coder");
  await loadLocalModel(tandem, "local/plain");
  ollama = new Ollama({ host: tandem.url });
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await cleanup?.();
});

describe("Ollama /api/generate on the embedded engine", () => {
  it("fills in the middle with the model's FIM tokens, whole and streamed", async () => {
    const whole = await ollama.generate({ model: "local/coder", prompt: PREFIX, suffix: SUFFIX, options: { temperature: 0 } });
    assert.equal(whole.response, MIDDLE.join(""));
    assert.equal(whole.done_reason, "stop");
    // The prompt the engine evaluated: the two texts and the three FIM tokens, no chat template.
    assert.ok(whole.prompt_eval_count > 3);
    assert.equal(whole.eval_count, 2);

    const stream = await ollama.generate({
      model: "code",
      prompt: PREFIX,
      suffix: SUFFIX,
      stream: true,
      options: { temperature: 0 },
    });
    let text = "";
    for await (const part of stream) text += part.response;
    assert.equal(text, MIDDLE.join(""));
  });

  it("keeps num_predict and stop", async () => {
    const short = await ollama.generate({
      model: "local/coder",
      prompt: PREFIX,
      suffix: SUFFIX,
      options: { temperature: 0, num_predict: 1 },
    });
    assert.equal(short.response, "return");
    assert.equal(short.done_reason, "length");
    const stopped = await ollama.generate({
      model: "local/coder",
      prompt: PREFIX,
      suffix: SUFFIX,
      options: { temperature: 0, stop: [" a +"] },
    });
    assert.equal(stopped.response, "return");
  });

  it("is a 400 naming suffix and the model for a model without FIM tokens", async () => {
    const error = await ollama.generate({ model: "local/plain", prompt: PREFIX, suffix: SUFFIX }).then(
      () => assert.fail("answered"),
      (err: { status_code?: number; message: string }) => err,
    );
    assert.equal(error.status_code, 400);
    assert.match(error.message, /'suffix'.*local\/plain has no fill-in-the-middle tokens/);
  });

  it("moves on from a model without FIM tokens to the route's next tier", async () => {
    const res = await fetch(`${tandem.url}/api/generate`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "plain-first", prompt: PREFIX, suffix: SUFFIX, stream: false, options: { temperature: 0 } }),
    });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { response: string }).response, MIDDLE.join(""));
    assert.equal(res.headers.get("x-tandem-target"), "local/coder");
  });

  it("raw: true continues the prompt as it is (no chat template, nothing named), raw: false chats it", async () => {
    const res = await fetch(`${tandem.url}/api/generate`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "local/plain", prompt: STORY_END, raw: true, stream: false, options: { temperature: 0 } }),
    });
    const body = (await res.json()) as { response: string };
    assert.equal(res.status, 200);
    assert.equal(body.response, STORY.join(""));
    assert.equal(res.headers.get("x-tandem-warnings"), null);

    const chatted = await ollama.generate({ model: "local/plain", prompt: STORY_END, options: { temperature: 0 } });
    assert.equal(chatted.response, OTHER, "the chat template's ending is not the story's");
  });
});

describe("OpenAI legacy completions on the embedded engine", () => {
  it("continue the prompt as text, as llama-server and vLLM do, each of several prompts its own", async () => {
    const one = await openai.completions.create({ model: "local/plain", prompt: STORY_END, temperature: 0 });
    assert.equal(one.choices[0]?.text, STORY.join(""));
    assert.equal(one.choices[0]?.finish_reason, "stop");

    const several = await openai.completions.create({ model: "local/plain", prompt: [STORY_END, "A cat"], temperature: 0 });
    assert.deepEqual(
      several.choices.map((c) => [c.index, c.text]),
      [
        [0, STORY.join("")],
        [1, OTHER],
      ],
    );
    // `echo` puts the prompt before the raw continuation.
    const echoed = await openai.completions.create({ model: "local/plain", prompt: STORY_END, echo: true, temperature: 0 });
    assert.equal(echoed.choices[0]?.text, STORY_END + STORY.join(""));
  });

  it("with a suffix fill in the middle, whole and streamed, with token logprobs", async () => {
    const whole = await openai.completions.create({
      model: "local/coder",
      prompt: PREFIX,
      suffix: SUFFIX,
      temperature: 0,
      logprobs: 1,
    });
    assert.equal(whole.choices[0]?.text, MIDDLE.join(""));
    assert.deepEqual(whole.choices[0]?.logprobs?.tokens, MIDDLE);
    assert.equal(whole.usage?.completion_tokens, 2);

    const stream = await openai.completions.create({
      model: "local/coder",
      prompt: PREFIX,
      suffix: SUFFIX,
      temperature: 0,
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
    assert.equal(text, MIDDLE.join(""));

    // Fanned out (n, several prompts), every choice's request keeps the suffix.
    const fanned = await openai.completions.create({
      model: "local/coder",
      prompt: [PREFIX, `# sum\n${PREFIX}`],
      suffix: SUFFIX,
      n: 2,
      temperature: 0,
    });
    assert.deepEqual(
      fanned.choices.map((c) => c.text),
      [MIDDLE.join(""), MIDDLE.join(""), MIDDLE.join(""), MIDDLE.join("")],
    );
  });

  it("with a suffix are a 400 naming suffix on a model without FIM tokens", async () => {
    const error = await openai.completions.create({ model: "local/plain", prompt: PREFIX, suffix: SUFFIX }).then(
      () => assert.fail("answered"),
      (err: unknown) => err,
    );
    assert.ok(error instanceof OpenAI.BadRequestError, String(error));
    assert.equal(error.param, "suffix");
    assert.equal(error.code, "unsupported_value", "OpenAI's code for a value the model does not support");
    assert.match(error.message, /local\/plain has no fill-in-the-middle tokens/);
  });
});
