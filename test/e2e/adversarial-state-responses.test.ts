/**
 * Background responses cancelled as an adversarial client would, through the official openai SDK:
 * each case here was a bug.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { MemoryStateStore } from "../../src/harness/state/memory-state-store.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let openai: FakeOpenAIUpstream;
let tandem: RunningTandem;
let client: OpenAI;
const MODEL = "openai/gpt-4o-mini";

before(async () => {
  openai = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  openai.script(() => ({ kind: "text", text: "Done.", usage: { input: 3, output: 1 } }));
  tandem = await startTandem(
    { providers: { openai: { kind: "openai", baseUrl: openai.url, apiKeys: ["env:UP_OPENAI"], local: false } } },
    { env: { UP_OPENAI: "sk-upstream-openai" } },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await openai?.close();
});

async function finished(id: string): Promise<OpenAI.Responses.Response> {
  for (let i = 0; i < 200; i++) {
    const read = await client.responses.retrieve(id);
    if (read.status !== "queued" && read.status !== "in_progress") return read;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${id} did not finish`);
}

describe("cancelling a background response that has ended", () => {
  it("a completed one is OpenAI's 400 'Cannot cancel a completed response.' (it was answered as if cancelled had worked)", async () => {
    const started = await client.responses.create({ model: MODEL, input: "Quick one", background: true });
    assert.equal((await finished(started.id)).status, "completed");
    await assert.rejects(
      client.responses.cancel(started.id),
      (err: unknown) =>
        err instanceof OpenAI.BadRequestError &&
        err.message.includes("Cannot cancel a completed response.") &&
        (err.error as { type?: string }).type === "invalid_request_error",
    );
    assert.equal((await client.responses.retrieve(started.id)).status, "completed", "and it stays completed");
  });

  it("a failed one, read from the store after a restart, is OpenAI's 400 'Cannot cancel a failed response.'", async () => {
    const state = new MemoryStateStore();
    const id = "resp_failed0000000000000000000000000000000000000000";
    const failed = {
      id,
      object: "response",
      created_at: 1_700_000_000,
      status: "failed",
      background: true,
      model: MODEL,
      output: [],
    };
    await state.saveResponse({ id, createdAt: 1_700_000_000, response: failed, input: [], output: [] });
    const server = await startTandem({}, { state });
    try {
      const sdk = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
      await assert.rejects(
        sdk.responses.cancel(id),
        (err: unknown) => err instanceof OpenAI.BadRequestError && err.message.includes("Cannot cancel a failed response."),
      );
    } finally {
      await server.close();
    }
  });

  it("a cancelled one is answered as it is (cancelling is idempotent)", async () => {
    openai.script(() => ({ kind: "stall", chunks: ["Still"] }));
    try {
      const started = await client.responses.create({ model: MODEL, input: "Long one", background: true });
      assert.equal((await client.responses.cancel(started.id)).status, "cancelled");
      assert.equal((await client.responses.cancel(started.id)).status, "cancelled");
    } finally {
      openai.script(() => ({ kind: "text", text: "Done.", usage: { input: 3, output: 1 } }));
    }
  });
});
