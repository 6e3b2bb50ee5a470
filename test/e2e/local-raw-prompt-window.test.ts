/**
 * A raw prompt (legacy completions, Ollama's `raw: true`, a prompt of token ids) is measured against a
 * local model's window as the engine evaluates it, without the chat template: a prompt that fits is
 * answered, not refused with `context_length_exceeded` because its templated chat message would not
 * fit. On stories260K with a 256-token window.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sharedModel } from "../support/local-models.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let tandem: RunningTandem;
// 238 tokens of stories260K's own (239 with the beginning token), under its 256-token window; its chat
// template adds about 20 more.
const PROMPT = "Once upon a time there was a little girl named Lily. ".repeat(17).trim();

before(async () => {
  tandem = await startTandem({
    providers: {
      local: {
        kind: "llamacpp",
        threads: 1,
        parallel: 1,
        models: { st: { path: sharedModel("stories260K.gguf"), contextSize: 256 } },
      },
    },
  });
});

after(async () => {
  await tandem?.close();
});

const post = async (path: string, body: unknown) => {
  const res = await fetch(`${tandem.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe("raw prompts against a local model's window", () => {
  it("answers a legacy completion that fits untemplated, with echo and logprobs too", async () => {
    const plain = await post("/v1/completions", { model: "local/st", prompt: PROMPT, max_tokens: 1 });
    assert.equal(plain.status, 200, JSON.stringify(plain.body));
    const usage = plain.body.usage as { prompt_tokens: number };
    assert.equal(usage.prompt_tokens, 239);
    const echoed = await post("/v1/completions", { model: "local/st", prompt: PROMPT, max_tokens: 0, echo: true, logprobs: 1 });
    assert.equal(echoed.status, 200, JSON.stringify(echoed.body));
  });

  it("answers Ollama's raw generate that fits untemplated", async () => {
    const raw = await post("/api/generate", {
      model: "local/st",
      prompt: PROMPT,
      raw: true,
      stream: false,
      options: { num_predict: 1 },
    });
    assert.equal(raw.status, 200, JSON.stringify(raw.body));
    assert.equal(raw.body.prompt_eval_count, 239);
  });

  it("measures a prompt of token ids as those ids, and refuses one that does not fit", async () => {
    const fits = await post("/v1/completions", { model: "local/st", prompt: [1, ...Array(150).fill(300)], max_tokens: 1 });
    assert.equal(fits.status, 200, JSON.stringify(fits.body));
    const over = await post("/v1/completions", { model: "local/st", prompt: Array(300).fill(300), max_tokens: 1 });
    assert.equal(over.status, 400, JSON.stringify(over.body));
    assert.equal((over.body.error as { code: string }).code, "context_length_exceeded");
  });
});
