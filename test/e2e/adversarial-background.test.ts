/**
 * Background responses driven as an adversarial client would: deleted or cancelled at once, resumed
 * from odd `starting_after` values. Each case here was a bug.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import type { StoredResponse } from "../../src/core/state.js";
import { MemoryStateStore } from "../../src/harness/state/memory-state-store.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

/** The state store, with every response saved in it named. */
class WatchedStateStore extends MemoryStateStore {
  readonly saved: string[] = [];
  override async saveResponse(response: StoredResponse): Promise<void> {
    this.saved.push(String(response.response.id));
    return super.saveResponse(response);
  }
}

let openai: FakeOpenAIUpstream;
let tandem: RunningTandem;
let client: OpenAI;
let state: WatchedStateStore;
const MODEL = "openai/gpt-4o-mini";

before(async () => {
  openai = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  state = new WatchedStateStore();
  tandem = await startTandem(
    { providers: { openai: { kind: "openai", baseUrl: openai.url, apiKeys: ["env:UP_OPENAI"], local: false } } },
    { env: { UP_OPENAI: "sk-upstream-openai" }, state },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await openai?.close();
});

beforeEach(() => {
  openai.requests.length = 0;
  state.saved.length = 0;
  openai.script(() => ({ kind: "text", text: "Done.", usage: { input: 3, output: 1 } }));
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 1500));

describe("background responses, adversarially", () => {
  it("a response deleted right after it is created does not come back as another run", async () => {
    // A large input: the run's own turn takes a while to be read, and the delete arrives first.
    const input = "Summarise this. ".repeat(400_000);
    const started = await client.responses.create({ model: MODEL, input, background: true });
    await client.responses.delete(started.id);
    await settle();
    // Its queued Response was saved before the answer, and nothing after the delete.
    assert.deepEqual(state.saved, [started.id], "nothing is stored after the delete");
    assert.equal(await state.getResponse(started.id), undefined);
    assert.equal(openai.requests.length, 0, "the upstream is not asked");
    await assert.rejects(client.responses.retrieve(started.id), OpenAI.NotFoundError);
  });

  it("a response cancelled right after it is created never reaches the upstream", async () => {
    const input = "Summarise this. ".repeat(400_000);
    const started = await client.responses.create({ model: MODEL, input, background: true });
    const cancelled = await client.responses.cancel(started.id);
    assert.equal(cancelled.status, "cancelled");
    await settle();
    assert.equal(openai.requests.length, 0, "the upstream is not asked for a cancelled response");
    // Saved queued before the answer, then as it ended: cancelled (no turn of it saved anything).
    assert.deepEqual(state.saved, [started.id, started.id]);
    assert.equal((await state.getResponse(started.id))?.response.status, "cancelled");
    assert.equal((await client.responses.retrieve(started.id)).status, "cancelled");
    // Cancelled again: answered as it is.
    assert.equal((await client.responses.cancel(started.id)).status, "cancelled");
  });

  it("refuses a starting_after that is not a plain sequence number, rather than reading it as some other number", async () => {
    const started = await client.responses.create({ model: MODEL, input: "Hello", background: true });
    for (const value of ["", " 1", "0x2", "1e1", "1.0", "+1", "99999999999999999999"]) {
      const res = await fetch(`${tandem.url}/v1/responses/${started.id}?stream=true&starting_after=${encodeURIComponent(value)}`);
      assert.equal(res.status, 400, `starting_after=${JSON.stringify(value)}`);
      const body = (await res.json()) as { error: { param: string } };
      assert.equal(body.error.param, "starting_after");
    }
    // A plain number still resumes after that event.
    const again = await client.responses.retrieve(started.id, { stream: true, starting_after: 1 });
    const numbers: number[] = [];
    for await (const event of again) numbers.push(event.sequence_number);
    assert.equal(numbers[0], 2);
  });
});
