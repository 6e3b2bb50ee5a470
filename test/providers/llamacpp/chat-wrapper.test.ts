/**
 * The engine resolves a model's chat wrapper once, when the model loads, never per request.
 *
 * Resolving it (node-llama-cpp's "auto") renders test conversations through the model's Jinja
 * template: synchronous work of hundreds of milliseconds, over a second on a busy 2-core machine.
 * Done for every chat (and every ping), it held the engine process's event loop while four requests
 * started, the cancels behind them went unconfirmed past the 2 s hang grace, and a working engine was
 * killed as hung, failing every request on it ("The local engine was restarted (a canceled request
 * did not stop within 2000 ms (hung))": seen in test/router/local-acceptance.test.ts, 5 to 9 times a
 * run on a loaded box). This drives the engine's own model host and chat in-process, where reading
 * what only the resolution reads can be counted, instead of timing a loaded machine.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { getLlama, type Llama, LlamaModel } from "node-llama-cpp";
import type { ProviderChatRequest, StreamEvent } from "../../../src/core/index.js";
import { generateChat } from "../../../src/providers/llamacpp/worker/generate-chat.js";
import { type LoadedModel, ModelHost } from "../../../src/providers/llamacpp/worker/model-host.js";
import { longAnswerPieces, makeModelDir, writeLongAnswerModel } from "../../support/gguf/index.js";

const ANSWER = longAnswerPieces(8).join("");

function request(text: string): ProviderChatRequest {
  return {
    model: "local/long",
    upstreamModel: "long",
    messages: [{ role: "user", content: [{ type: "text", text }] }],
    stream: true,
    temperature: 0,
  };
}

describe("chat wrapper of a loaded model", () => {
  let llama: Llama;
  let host: ModelHost;
  let loaded: LoadedModel;
  let cleanup: () => Promise<void>;
  /** Reads of the model's file name: node-llama-cpp's resolveChatWrapper reads it, a chat does not. */
  let nameReads = 0;

  before(async () => {
    const made = await makeModelDir();
    cleanup = made.cleanup;
    const path = join(made.dir, "long.gguf");
    // A Qwen 2.5 chat template: resolving it means rendering Jinja, the costly case.
    await writeLongAnswerModel(path, { tokenCount: 8 });
    llama = await getLlama({ gpu: false, build: "never" });
    host = new ModelHost(llama, () => {});
    loaded = await host.get({ name: "long", path, contextSize: 256, parallel: 2, threads: 1, gpuLayers: 0, generation: 0 });
    const filename = Object.getOwnPropertyDescriptor(LlamaModel.prototype, "filename")?.get;
    assert.ok(filename, "node-llama-cpp's LlamaModel has a filename getter");
    Object.defineProperty(loaded.model, "filename", {
      get() {
        nameReads++;
        return filename.call(this);
      },
    });
  });

  after(async () => {
    await host?.unload("long");
    await llama?.dispose();
    await cleanup?.();
  });

  it("is resolved at load, and every chat, concurrent ones too, and every status use it without resolving again", async () => {
    assert.equal(loaded.chatWrapper.wrapperName, "Qwen");
    const answers = await Promise.all(
      ["one", "two", "three"].map(async (text) => {
        const events: StreamEvent[] = [];
        await generateChat(loaded, request(text), new AbortController().signal, (event) => events.push(event));
        return events.map((e) => (e.type === "text-delta" ? e.text : "")).join("");
      }),
    );
    assert.deepEqual(answers, [ANSWER, ANSWER, ANSWER], "the shared wrapper formats each conversation as before");
    assert.equal((await host.infos())[0]?.chatWrapper, "Qwen");
    assert.equal(nameReads, 0, "no chat and no status resolved the chat wrapper again");
  });
});
