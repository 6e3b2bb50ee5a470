/**
 * A provider without the embeddings capability has no `embed` method (src/core/provider.ts); the
 * router answers an embeddings request for it as the client's mistake, in the client's dialect, and
 * never calls its upstream. Key pools keep that: the key-rotating wrapper adds no `embed` either.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

describe("embeddings by capability", () => {
  let anthropic: FakeUpstream;
  let openai: FakeUpstream;
  let tandem: RunningTandem;

  before(async () => {
    anthropic = await startFakeAnthropic({ models: ["claude-haiku-4-5"] });
    openai = await startFakeOpenAI({ models: ["text-embedding-3-small"] });
    tandem = await startTandem(
      {
        providers: {
          claude: { kind: "anthropic", baseUrl: anthropic.url, apiKeys: ["env:K1", "env:K2"], models: ["claude-haiku-4-5"] },
          oa: { kind: "openai", baseUrl: openai.url, apiKeys: ["env:K1"], models: ["text-embedding-3-small"] },
        },
      },
      { env: { K1: "sk-one", K2: "sk-two" } },
    );
  });

  after(async () => {
    await tandem?.close();
    await anthropic?.close();
    await openai?.close();
  });

  it("refuses embeddings on a chat-only provider with a 400 naming it, without calling its upstream", async () => {
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
    const before = anthropic.requests.length;
    await assert.rejects(client.embeddings.create({ model: "claude/claude-haiku-4-5", input: ["a cat"] }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError, String(err));
      assert.equal(err.status, 400);
      assert.match(err.message, /claude: anthropic has no embeddings API/);
      return true;
    });
    assert.equal(anthropic.requests.length, before, "nothing was sent to Anthropic");
  });

  it("embeds on a provider that has the capability, behind the same key pool machinery", async () => {
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
    const result = await client.embeddings.create({ model: "oa/text-embedding-3-small", input: ["a cat", "a dog"] });
    assert.equal(result.data.length, 2);
    assert.ok((result.data[0]?.embedding.length ?? 0) > 0);
  });
});
