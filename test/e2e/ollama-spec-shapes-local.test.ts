/**
 * The embedded engine's Ollama answers checked against Ollama's own (see ollama-spec-shapes.test.ts
 * for the cloud and Ollama upstreams): a real tandem server on the tiny stories model, through raw
 * fetch and the official `ollama` client, every answer validated against the schema written from
 * api/types.go (test/support/ollama-wire-schema.ts), and what Ollama does that only a local model
 * shows: /api/ps, vectors of unit length cut to `dimensions`, an unknown local model's 404.
 */
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { Ollama } from "ollama";
import { sharedModel } from "../support/local-models.js";
import {
  chatProblems,
  checkTime,
  detailsProblems,
  generateProblems,
  type Json,
  problems,
  streamProblems,
} from "../support/ollama-wire-schema.js";
import { loadLocalModel, PATIENT_TIMEOUTS, type RunningTandem, startTandem } from "../support/tandem.js";

const MODEL = "local/stories";
let tandem: RunningTandem;
let client: Ollama;

before(async () => {
  tandem = await startTandem({
    providers: {
      local: { kind: "llamacpp", threads: 1, models: { stories: { path: sharedModel("stories260K.gguf"), contextSize: 512 } } },
    },
    routes: { private: { tiers: [MODEL], privacy: "local-only", timeouts: PATIENT_TIMEOUTS } },
  });
  await loadLocalModel(tandem, MODEL);
  client = new Ollama({ host: tandem.url });
});

after(async () => {
  await tandem?.close();
});

async function post(path: string, body: unknown, method = "POST"): Promise<{ status: number; text: string }> {
  const res = await fetch(`${tandem.url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

const OPTIONS = { num_predict: 4, temperature: 0 };

describe("the embedded engine's answers match api/types.go", () => {
  for (const stream of [false, true]) {
    it(`/api/chat and /api/generate, ${stream ? "streamed" : "whole"}, with think and logprobs set too`, async () => {
      for (const extra of [
        {},
        // stories260K has no chat template, so no thinking mode: Ollama refuses `think: true` for it (see local-reasoning).
        { think: false },
        { logprobs: true, top_logprobs: 2 },
        { options: { ...OPTIONS, num_predict: 64 } },
      ]) {
        const chat = await post("/api/chat", {
          model: MODEL,
          messages: [{ role: "user", content: "Once upon a time" }],
          options: OPTIONS,
          stream,
          ...extra,
        });
        assert.equal(chat.status, 200, chat.text);
        assert.deepEqual(
          stream ? streamProblems(chat.text, chatProblems) : chatProblems(JSON.parse(chat.text) as Json),
          [],
          chat.text,
        );
        const gen = await post("/api/generate", { model: MODEL, prompt: "Once upon a time", options: OPTIONS, stream, ...extra });
        assert.equal(gen.status, 200, gen.text);
        assert.deepEqual(
          stream ? streamProblems(gen.text, generateProblems) : generateProblems(JSON.parse(gen.text) as Json),
          [],
          gen.text,
        );
      }
    });
  }

  it("the load and unload answers, and /api/ps between them (api.ProcessModelResponse)", async () => {
    const load = JSON.parse((await post("/api/chat", { model: MODEL, messages: [], keep_alive: "10m" })).text) as Json;
    assert.deepEqual(chatProblems(load), []);
    assert.equal(load.done_reason, "load");
    const ps = JSON.parse((await post("/api/ps", undefined, "GET")).text) as { models: Json[] };
    const entry = ps.models.find((m) => m.name === MODEL);
    assert.ok(entry, JSON.stringify(ps));
    const out: string[] = [];
    problems("ps", entry, ["name", "model", "size", "digest", "details", "expires_at", "size_vram", "context_length"], out);
    for (const key of ["size", "size_vram", "context_length"]) if (!Number.isInteger(entry[key])) out.push(`ps.${key}`);
    detailsProblems("ps.details", entry.details, out);
    checkTime("ps.expires_at", entry.expires_at, out);
    assert.deepEqual(out, []);
    assert.equal(entry.context_length, 512);

    const show = JSON.parse((await post("/api/show", { model: MODEL })).text) as Json;
    const showOut: string[] = [];
    detailsProblems("show.details", show.details, showOut);
    assert.deepEqual(showOut, []);

    const unload = JSON.parse((await post("/api/generate", { model: MODEL, keep_alive: 0 })).text) as Json;
    assert.deepEqual(generateProblems(unload), []);
    assert.equal(unload.done_reason, "unload");
  });
});

describe("what Ollama does that a local model shows", () => {
  const norm = (v: number[]) => Math.hypot(...v);

  it("/api/embed answers unit-length vectors, cut to `dimensions` and normalized again", async () => {
    const whole = await client.embed({ model: MODEL, input: ["a cat", "a dog"] });
    assert.equal(whole.embeddings.length, 2);
    for (const v of whole.embeddings) {
      assert.equal(v.length, 64);
      assert.ok(Math.abs(norm(v) - 1) < 1e-6, `norm ${norm(v)}`);
    }
    const cut = await client.embed({ model: MODEL, input: "a cat", dimensions: 8 });
    const [vector] = cut.embeddings;
    assert.equal(vector?.length, 8);
    assert.ok(Math.abs(norm(vector ?? []) - 1) < 1e-6, `norm ${norm(vector ?? [])}`);
    // The first 8 values of the whole vector, scaled back to unit length: the same direction.
    const head = (whole.embeddings[0] ?? []).slice(0, 8);
    const scale = 1 / norm(head);
    head.forEach((value, i) => {
      assert.ok(Math.abs(value * scale - (vector?.[i] ?? 0)) < 1e-6);
    });
    // The legacy endpoint gives the model's own vector, as Ollama's does: not of unit length here.
    const legacy = await client.embeddings({ model: MODEL, prompt: "a cat" });
    assert.equal(legacy.embedding.length, 64);
    assert.ok(Math.abs(norm(legacy.embedding) - 1) > 1e-3);
  });

  it("/api/embed embeds an empty text in a list as Ollama does, a vector of the model's size", async () => {
    // Ollama's runner embeds "" as the tokens the model adds around any text; before, tandem
    // answered an empty vector beside the full ones, which breaks a vector store.
    const mixed = await client.embed({ model: MODEL, input: ["a", ""] });
    assert.deepEqual(
      mixed.embeddings.map((v) => v.length),
      [64, 64],
    );
    assert.ok(Math.abs(norm(mixed.embeddings[1] ?? []) - 1) < 1e-6);
    const alone = await client.embed({ model: MODEL, input: [""] });
    assert.deepEqual(alone.embeddings, [mixed.embeddings[1]]);
  });

  it("an unknown local model is Ollama's 404, in each endpoint's words", async () => {
    for (const [path, body, error] of [
      ["/api/chat", { model: "local/nope", messages: [{ role: "user", content: "Hi" }] }, "model 'local/nope' not found"],
      ["/api/generate", { model: "local/nope" }, "model 'local/nope' not found"],
      ["/api/show", { model: "local/nope" }, "model 'local/nope' not found"],
      ["/api/embed", { model: "local/nope", input: "Hi" }, 'model "local/nope" not found, try pulling it first'],
    ] as const) {
      const res = await post(path, body);
      assert.equal(res.status, 404, `${path} ${res.text}`);
      const answer = JSON.parse(res.text) as { error: string };
      assert.deepEqual(Object.keys(answer), ["error"], path);
      // Ollama's words first; then, as every unknown-model 404 of tandem's, the models that exist.
      assert.ok(answer.error.startsWith(`${error}. Local models: local/`), `${path}: ${answer.error}`);
    }
  });

  it("/api/tags and /api/show describe the GGUF as Ollama does: its architecture, quantization and size", async () => {
    const { models } = await client.list();
    const tagged = models.find((m) => m.name === MODEL);
    assert.ok(tagged);
    assert.equal(tagged.size, statSync(sharedModel("stories260K.gguf")).size);
    const expected = {
      parent_model: "",
      format: "gguf",
      family: "llama",
      families: ["llama"],
      parameter_size: "",
      quantization_level: "F32",
    };
    assert.deepEqual(tagged.details, expected);
    const show = await client.show({ model: MODEL });
    assert.deepEqual(show.details, expected);
    assert.equal((show.model_info as unknown as Json)["general.architecture"], "llama");
    // The context the GGUF says it was trained on, as Ollama gives it, not the 512 configured to run it with.
    assert.equal((show.model_info as unknown as Json)["llama.context_length"], 2048);
  });

  it("/api/embed cuts an input longer than the model takes (Ollama's default truncate), and refuses it with truncate false", async () => {
    const long = "once upon a time there was a little cat ".repeat(80);
    const cut = await client.embed({ model: MODEL, input: ["a cat", long] });
    assert.equal(cut.embeddings.length, 2);
    assert.ok(Math.abs(Math.hypot(...(cut.embeddings[1] ?? [])) - 1) < 1e-6);
    const explicit = await client.embed({ model: MODEL, input: long, truncate: true });
    assert.deepEqual(explicit.embeddings[0], cut.embeddings[1]);
    const refused = await post("/api/embed", { model: MODEL, input: long, truncate: false });
    assert.equal(refused.status, 400, refused.text);
    assert.deepEqual(Object.keys(JSON.parse(refused.text) as Json), ["error"]);
  });

  it("deleting or copying a model that is not there is Ollama's 404 in its words", async () => {
    const deleted = await post("/api/delete", { model: "local/nope" }, "DELETE");
    assert.equal(deleted.status, 404, deleted.text);
    assert.match((JSON.parse(deleted.text) as { error: string }).error, /^model 'local\/nope' not found\. Local models: local\//);
    const copied = await post("/api/copy", { source: "local/nope", destination: "local/other" });
    assert.equal(copied.status, 404, copied.text);
    assert.match((JSON.parse(copied.text) as { error: string }).error, /^model "local\/nope" not found\. Local models: local\//);
    await assert.rejects(client.delete({ model: "local/nope" }), { name: "ResponseError", status_code: 404 });
  });
});

describe("the embedded engine's durations", () => {
  it("load_duration is the wait for the model's load when the request loaded it, 0 when it was loaded; the prompt phase leaves it out", async () => {
    for (const stream of [false, true]) {
      // keep_alive 0 unloads the model when the answer is done (as Ollama's does).
      await client.generate({ model: MODEL, prompt: "Once upon a time", options: OPTIONS, keep_alive: 0 });
      const loading = await finalOf(stream);
      assert.ok(loading.load_duration > 0, `the request loaded the model (${stream ? "streamed" : "whole"})`);
      assert.ok(
        loading.load_duration + loading.prompt_eval_duration + loading.eval_duration <= loading.total_duration + 3,
        JSON.stringify(loading),
      );
      const loaded = await finalOf(stream);
      assert.equal(loaded.load_duration, 0, "the model was held");
      assert.ok(loaded.prompt_eval_duration > 0 && loaded.eval_duration > 0);
    }
  });

  async function finalOf(stream: boolean) {
    const request = { model: MODEL, prompt: "Once upon a time", options: OPTIONS };
    if (!stream) return await client.generate(request);
    let last: Awaited<ReturnType<Ollama["generate"]>> | undefined;
    for await (const part of await client.generate({ ...request, stream: true })) last = part;
    assert.ok(last?.done);
    return last;
  }
});
