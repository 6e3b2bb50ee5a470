/**
 * An Ollama client's `options.num_ctx` larger than the local model was trained for (Open WebUI users
 * set 8192 for every model; small models are trained on 2048) runs the model with its trained
 * context, as Ollama does, and the router fits the conversation to that window, not to the one asked
 * for. Before, the router took the asked window as it came, left a long conversation whole, and the
 * engine (which caps the window at the trained context) refused it as context_length_exceeded where
 * Ollama would have answered.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Provider } from "../../src/core/index.js";
import { makeModelDir, writeChatModel } from "../support/gguf/index.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let tandem: RunningTandem;
let cleanup: () => Promise<void>;

/** The context chat.gguf was trained on. */
const TRAINED = 256;
/** Two older turns of about 400 tokens each, past the trained context, and a short new one. */
const MESSAGES = [
  { role: "user", content: `first ${"word ".repeat(400)}` },
  { role: "assistant", content: "Ok." },
  { role: "user", content: `second ${"word ".repeat(400)}` },
  { role: "assistant", content: "Ok." },
  { role: "user", content: "Hi" },
];

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  await writeChatModel(join(made.dir, "chat.gguf"), { contextLength: TRAINED });
  // A configured window past the trained context: the model still runs with its trained one.
  await writeChatModel(join(made.dir, "wide.gguf"), { contextLength: TRAINED });
  // A configured window within it.
  await writeChatModel(join(made.dir, "narrow.gguf"), { contextLength: TRAINED });
  tandem = await startTandem({
    providers: {
      local: {
        kind: "llamacpp",
        threads: 1,
        models: {
          chat: { path: join(made.dir, "chat.gguf") },
          wide: { path: join(made.dir, "wide.gguf"), contextSize: 4096 },
          narrow: { path: join(made.dir, "narrow.gguf"), contextSize: 128 },
        },
      },
    },
  });
});

after(async () => {
  await tandem?.close();
  await cleanup?.();
});

async function ollamaChat(numCtx: number | undefined) {
  const res = await fetch(`${tandem.url}/api/chat`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "local/chat",
      stream: false,
      messages: MESSAGES,
      options: { num_predict: 4, ...(numCtx !== undefined && { num_ctx: numCtx }) },
    }),
  });
  const text = await res.text();
  return { res, text, body: JSON.parse(text) as { prompt_eval_count?: number; message?: { content: string } } };
}

describe("options.num_ctx past the local model's trained context", () => {
  it("/api/show's model_info gives the trained context, as Ollama's does, whatever window is configured", async () => {
    for (const model of ["local/chat", "local/wide", "local/narrow"]) {
      const res = await fetch(`${tandem.url}/api/show`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model }),
      });
      const show = (await res.json()) as { model_info: Record<string, unknown> };
      const family = show.model_info["general.architecture"];
      assert.equal(show.model_info[`${family}.context_length`], TRAINED, model);
    }
  });

  it("the engine's model list reports each model's trained context beside the window it runs with", async () => {
    const local = tandem.server.catalog.slots.get("local")?.provider as Provider;
    const listed = await local.listModels(AbortSignal.timeout(10_000));
    for (const id of ["chat", "wide"]) {
      const model = listed.find((m) => m.id === id);
      assert.equal(model?.trainedContext, TRAINED, id);
      assert.equal(model?.contextWindow, TRAINED, `${id}: its window capped at the trained context`);
    }
  });

  it("fits the conversation to the trained window, as a num_ctx within it does, and the model answers", async () => {
    const within = await ollamaChat(TRAINED);
    assert.equal(within.res.status, 200, within.text);
    const fitted = within.res.headers.get("x-tandem-degraded") ?? "";
    assert.match(fitted, /conversation fitted to local\/chat's 256-token window: \d+ older message\(s\) left out/);

    for (const asked of [8192, 100_000]) {
      const past = await ollamaChat(asked);
      assert.equal(past.res.status, 200, `num_ctx ${asked}: ${past.text}`);
      assert.equal(past.res.headers.get("x-tandem-degraded"), fitted, `num_ctx ${asked}: cut as for ${TRAINED}`);
      assert.equal(past.body.message?.content, within.body.message?.content);
      // What the engine was given: the same fitted conversation, within the trained window.
      assert.equal(past.body.prompt_eval_count, within.body.prompt_eval_count);
      assert.ok((past.body.prompt_eval_count ?? Number.POSITIVE_INFINITY) < TRAINED, past.text);
      // Applied (capped, as Ollama caps it), so not named as unsent.
      assert.equal(past.res.headers.get("x-tandem-warnings"), null);
    }
  });
});
