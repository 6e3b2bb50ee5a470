/**
 * Stored chat completions answered by the embedded engine (a canonical target on this machine),
 * through the official `openai` client on the real tiny model: `store: true`, whole and streamed, is
 * retrieved as the client got it, with the request's messages.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { sharedModel } from "../support/local-models.js";
import { loadLocalModel, PATIENT_TIMEOUTS, type RunningTandem, startTandem } from "../support/tandem.js";

let tandem: RunningTandem;
let client: OpenAI;

before(async () => {
  tandem = await startTandem({
    providers: {
      local: { kind: "llamacpp", threads: 1, models: { stories: { path: sharedModel("stories260K.gguf"), contextSize: 512 } } },
    },
    routes: { private: { tiers: ["local/stories"], privacy: "local-only", timeouts: PATIENT_TIMEOUTS } },
  });
  await loadLocalModel(tandem, "local/stories");
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(() => tandem?.close());

describe("stored chat completions from the embedded engine", () => {
  it("stores a whole and a streamed answer as the client got them", async () => {
    const whole = await client.chat.completions.create({
      model: "private",
      messages: [{ role: "user", content: "Once upon a time" }],
      max_tokens: 12,
      temperature: 0,
      store: true,
      metadata: { source: "local" },
    });
    const stored = await client.chat.completions.retrieve(whole.id);
    assert.equal(stored.model, "local/stories");
    assert.equal(stored.choices[0]?.message.content, whole.choices[0]?.message.content);
    assert.deepEqual(stored.usage, whole.usage);

    const stream = await client.chat.completions.create({
      model: "private",
      messages: [{ role: "user", content: "There was a cat" }],
      max_tokens: 12,
      temperature: 0,
      stream: true,
      store: true,
      metadata: { source: "local" },
    });
    let id = "";
    let text = "";
    for await (const chunk of stream) {
      id = chunk.id;
      text += chunk.choices[0]?.delta.content ?? "";
    }
    const streamed = await client.chat.completions.retrieve(id);
    assert.equal(streamed.choices[0]?.message.content, text);
    assert.ok(streamed.choices[0]?.finish_reason);
    const list = await client.chat.completions.list({ model: "private", metadata: { source: "local" } });
    assert.deepEqual(
      list.data.map((c) => c.id),
      [whole.id, id],
    );
    assert.equal((await client.chat.completions.messages.list(id)).data[0]?.content, "There was a cat");
  });
});
