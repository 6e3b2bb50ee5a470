/**
 * Least-recently-used eviction: when a model about to load does not fit beside those loaded, the
 * idle model used longest ago is unloaded first, never one that is serving. The budget is a tiny
 * fixed one injected through the provider's `fits` seam, over models the test writes.
 */
import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { collectChat, type ProviderChatRequest } from "../../../src/core/index.js";
import { LlamaCppProvider } from "../../../src/providers/llamacpp/index.js";
import { budgetFits, evictUntilFits, type ResidentModel } from "../../../src/providers/llamacpp/lru-eviction.js";
import { makeModelDir, writeChatModel } from "../../support/gguf/index.js";

describe("evictUntilFits", () => {
  const incoming = { name: "new", path: "/m/new.gguf", bytes: 40 };

  it("unloads idle models, oldest first, until the new one fits, and skips busy ones", async () => {
    const resident: ResidentModel[] = [
      { name: "busy-oldest", lastUsedMs: 1, busy: true, bytes: 30 },
      { name: "old", lastUsedMs: 2, busy: false, bytes: 30 },
      { name: "mid", lastUsedMs: 3, busy: false, bytes: 30 },
      { name: "recent", lastUsedMs: 4, busy: false, bytes: 30 },
    ];
    const unloaded: string[] = [];
    const evicted = await evictUntilFits(
      incoming,
      () => resident.filter((m) => !unloaded.includes(m.name)),
      budgetFits(100),
      async (name) => {
        unloaded.push(name);
      },
    );
    // 120 loaded + 40 > 100: drop "old" (90 + 40 > 100), then "mid" (60 + 40 = 100).
    assert.deepEqual(evicted, ["old", "mid"]);
  });

  it("stops when nothing idle is left, leaving the decision to the load", async () => {
    const resident: ResidentModel[] = [{ name: "busy", lastUsedMs: 1, busy: true, bytes: 90 }];
    const evicted = await evictUntilFits(
      incoming,
      () => resident,
      budgetFits(100),
      async () => {
        throw new Error("must not unload a busy model");
      },
    );
    assert.deepEqual(evicted, []);
  });
});

describe("LlamaCppProvider with a memory budget for two models", () => {
  let provider: LlamaCppProvider;
  let cleanup: () => Promise<void>;

  before(async () => {
    const made = await makeModelDir();
    cleanup = made.cleanup;
    const models: Record<string, { path: string; contextSize: number }> = {};
    for (const name of ["a", "b", "c"]) {
      const path = join(made.dir, `${name}.gguf`);
      await writeChatModel(path, { answer: `I am ${name}.` });
      models[name] = { path, contextSize: 256 };
    }
    const size = (await stat(models.a?.path ?? "")).size;
    provider = new LlamaCppProvider({
      id: "local",
      dataDir: made.dir,
      threads: 1,
      parallel: 1,
      models,
      // Room for two of the three (the engine reports each model's bytes close to its file size).
      fits: budgetFits(Math.floor(size * 2.5)),
    });
  });

  after(async () => {
    await provider?.close();
    await cleanup?.();
  });

  function ask(model: string): Promise<unknown> {
    const request: ProviderChatRequest = {
      model: `local/${model}`,
      upstreamModel: model,
      messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
      stream: true,
    };
    return collectChat(provider.chat(request, new AbortController().signal));
  }

  const loaded = () =>
    provider
      .loadedModels()
      .map((m) => m.target)
      .sort();

  it("unloads the least recently used model to make room, not the one just used", async () => {
    await ask("a");
    await ask("b");
    assert.deepEqual(loaded(), ["local/a", "local/b"]);
    await ask("a"); // a is now more recent than b
    await ask("c");
    assert.deepEqual(loaded(), ["local/a", "local/c"]);
    await ask("a");
    await ask("b");
    assert.deepEqual(loaded(), ["local/a", "local/b"]);
  });
});
