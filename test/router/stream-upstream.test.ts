/**
 * A route's streamUpstream: by default every attempt streams from the upstream, so the first-token
 * limit watches clients that do not stream too; with `streamUpstream: false` such a client gets a
 * whole upstream answer, as it asked, and only the total limit bounds it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

describe("route streamUpstream", () => {
  let first: FakeOpenAIUpstream;
  let second: FakeUpstream;
  let tandem: RunningTandem;
  let client: OpenAI;
  const messages = [{ role: "user" as const, content: "hi" }];
  const streamed = (fake: FakeUpstream) => (fake.requests.at(-1)?.body as { stream?: boolean }).stream;

  before(async () => {
    first = await startFakeOpenAI({ models: ["m"] });
    second = await startFakeAnthropic({ models: ["c"] });
    tandem = await startTandem(
      {
        providers: {
          a: { kind: "openai", baseUrl: first.url, models: ["m"] },
          b: { kind: "anthropic", baseUrl: second.url, apiKeys: ["env:B_KEY"], models: ["c"] },
        },
        routes: {
          streaming: { tiers: ["a/m", "b/c"], retry: { attempts: 1 }, timeouts: { firstTokenMs: 300, totalMs: 5000 } },
          whole: {
            tiers: ["a/m", "b/c"],
            retry: { attempts: 1 },
            timeouts: { firstTokenMs: 300, totalMs: 1500 },
            streamUpstream: false,
          },
        },
      },
      { env: { B_KEY: "sk-ant-test" } },
    );
    client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
  });

  after(async () => {
    await tandem?.close();
    await Promise.all([first?.close(), second?.close()]);
  });

  it("streams from the upstream by default, for a client that does not stream too", async () => {
    first.script(() => ({ kind: "text", text: "from a" }));
    const answer = await client.chat.completions.create({ model: "streaming", messages });
    assert.equal(answer.choices[0]?.message.content, "from a");
    assert.equal(streamed(first), true);
  });

  it("asks for a whole answer with streamUpstream: false, and streams when the client does", async () => {
    first.script(() => ({ kind: "text", text: "from a", usage: { input: 3, output: 2 } }));
    const answer = await client.chat.completions.create({ model: "whole", messages });
    assert.equal(answer.choices[0]?.message.content, "from a");
    assert.deepEqual([answer.usage?.prompt_tokens, answer.usage?.completion_tokens], [3, 2]);
    assert.equal(streamed(first), false);

    const stream = await client.chat.completions.create({ model: "whole", messages, stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    assert.equal(text, "from a");
    assert.equal(streamed(first), true);
  });

  it("fails a whole answer over on an upstream error, whole on the next tier too", async () => {
    first.script(() => ({ kind: "error", status: 500, message: "boom" }));
    const { data, response } = await client.chat.completions.create({ model: "whole", messages }).withResponse();
    assert.equal(data.choices[0]?.message.content, "Hello from anthropic");
    assert.equal(response.headers.get("x-tandem-target"), "b/c");
    assert.equal(streamed(second), false);
  });

  it("leaves a stalled upstream after the first-token limit when streaming, only after the total limit when whole", async () => {
    first.script(() => ({ kind: "raw", body: [], end: "hang" }));
    const rescued = await client.chat.completions.create({ model: "streaming", messages }).withResponse();
    assert.equal(rescued.response.headers.get("x-tandem-target"), "b/c");
    // The first-token limit (300 ms), not the total one, let the next tier answer.
    assert.match(rescued.response.headers.get("x-tandem-degraded") ?? "", /no first token within 300 ms/);

    const started = performance.now();
    await assert.rejects(
      client.chat.completions.create({ model: "whole", messages }),
      (err: InstanceType<typeof OpenAI.APIError>) => {
        assert.equal(err.status, 504);
        assert.match(err.message, /no complete answer within 1500 ms/);
        return true;
      },
    );
    const ms = performance.now() - started;
    assert.ok(ms >= 1400, `a whole answer is not held to the first-token limit (gave up after ${Math.round(ms)} ms)`);
  });
});
