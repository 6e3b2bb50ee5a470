/**
 * A local model's own settings in the config. A `contextSize` past the model's trained context is
 * capped at it, as Ollama caps `num_ctx`: stories260K, trained on 2048 tokens, configured with 99999,
 * is listed and loaded with 2048, not a 99,999-token window. A model's own `threads` is taken (as its
 * `gpuLayers` and `parallel` are) over the provider's.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { sharedModel } from "../support/local-models.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let tandem: RunningTandem;

before(async () => {
  tandem = await startTandem({
    providers: {
      // The provider's threads are never used: the one model that runs takes its own.
      local: {
        kind: "llamacpp",
        threads: 2,
        parallel: 1,
        models: { rel: { path: sharedModel("stories260K.gguf"), contextSize: 99999, threads: 1 } },
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

it("lists and loads a model configured past its trained context with its trained context", async () => {
  const shown = await post("/api/show", { model: "local/rel" });
  assert.equal(shown.status, 200, JSON.stringify(shown.body));
  assert.equal((shown.body.model_info as Record<string, unknown>)["llama.context_length"], 2048);

  const chat = await post("/api/chat", {
    model: "local/rel",
    messages: [{ role: "user", content: "Once upon a time" }],
    stream: false,
    options: { num_predict: 2 },
  });
  assert.equal(chat.status, 200, JSON.stringify(chat.body));
  const ps = (await (await fetch(`${tandem.url}/api/ps`)).json()) as { models: { name: string; context_length: number }[] };
  assert.deepEqual(
    ps.models.map((m) => m.context_length),
    [2048],
  );
});

it("runs a model with its own threads", async () => {
  const status = (await (await fetch(`${tandem.url}/v1/status`)).json()) as {
    providers: { name: string; loaded?: { name: string; threads: number }[] }[];
  };
  const loaded = status.providers.find((p) => p.name === "local")?.loaded ?? [];
  assert.deepEqual(
    loaded.map((m) => [m.name, m.threads]),
    [["rel", 1]],
  );
});
