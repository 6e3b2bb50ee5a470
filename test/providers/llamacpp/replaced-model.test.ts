/**
 * A model replaced while it writes an answer, when its new version does not fit in memory beside
 * the old one (a memory budget for one model, through the provider's `fits` seam): the new request
 * waits for the old answer to end and the old model to go, as Ollama's scheduler waits for a
 * reload, instead of being refused or loading beside it; then it is answered by the new model.
 */
import assert from "node:assert/strict";
import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { collectChat, type ProviderChatRequest } from "../../../src/core/index.js";
import { LlamaCppProvider } from "../../../src/providers/llamacpp/index.js";
import { budgetFits } from "../../../src/providers/llamacpp/lru-eviction.js";
import { makeModelDir, writeChatModel, writeLoopingModel } from "../../support/gguf/index.js";

let provider: LlamaCppProvider;
let cleanup: () => Promise<void>;

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  const models = join(made.dir, "models");
  await mkdir(models);
  await writeLoopingModel(join(models, "busy.gguf"));
  await writeChatModel(join(models, "chat.gguf"));
  const sizes = await Promise.all(["busy", "chat"].map(async (n) => (await stat(join(models, `${n}.gguf`))).size));
  provider = new LlamaCppProvider({
    id: "local",
    dataDir: made.dir,
    threads: 1,
    parallel: 2,
    models: {},
    // Room for one of them at a time.
    fits: budgetFits(Math.floor(Math.max(...sizes) * 1.5)),
  });
});

after(async () => {
  await provider?.close();
  await cleanup?.();
});

const request = (maxTokens: number): ProviderChatRequest => ({
  model: "local/busy",
  upstreamModel: "busy",
  messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
  stream: true,
  maxTokens,
  temperature: 0,
});

const instances = () => provider.loadedModels().filter((m) => m.target === "local/busy").length;

describe("a replaced model whose new version does not fit beside the old", () => {
  it("is loaded once the old one has finished its answer and gone, and answers then", async () => {
    const first = new AbortController();
    const events = provider.chat(request(5000), first.signal)[Symbol.asyncIterator]();
    for (let i = 0; i < 3; i++) assert.ok(!(await events.next()).done);
    await provider.copyModel("chat", "busy");

    let settled = false;
    const second = collectChat(provider.chat(request(8), new AbortController().signal)).finally(() => {
      settled = true;
    });
    // The old answer goes on; the new model must not load beside it meanwhile.
    for (let i = 0; i < 300 && !settled; i++) {
      assert.ok(!(await events.next()).done);
      assert.ok(instances() <= 1, "the new version was loaded beside the old one, past the memory budget");
    }
    assert.equal(settled, false, "the new request waited for the old model to go");
    first.abort();
    await events.return?.();
    const answer = await second;
    assert.equal(answer.text, "Hello from tandem.");
    assert.equal(instances(), 1);
  });
});
