/**
 * Capability facts configured per model (`models.<name>.capabilities`): a route skips a model that
 * cannot serve the request (tools, JSON output, images) before calling it, says so in
 * x-tandem-degraded, and still uses it for requests it can serve. An absent fact is unknown: the
 * model is tried, as before.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const TOOL = {
  type: "function" as const,
  function: { name: "lookup", description: "Looks a word up", parameters: { type: "object", properties: {} } },
};
const IMAGE =
  "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

describe("model capabilities in the plan", () => {
  let upstream: FakeUpstream;
  let tandem: RunningTandem;
  let client: OpenAI;

  before(async () => {
    upstream = await startFakeOpenAI({ models: ["small", "big"] });
    tandem = await startTandem(
      {
        providers: {
          oa: {
            kind: "openai",
            baseUrl: upstream.url,
            apiKeys: ["env:K"],
            models: {
              small: { capabilities: { tools: false, json: false, vision: false } },
              big: { capabilities: { tools: true } },
            },
          },
        },
        routes: { r: { tiers: ["oa/small", "oa/big"] } },
      },
      { env: { K: "sk-test" } },
    );
    client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
  });

  after(async () => {
    await tandem?.close();
    await upstream?.close();
  });

  /** The models the upstream was asked for since `from`. */
  const askedSince = (from: number) =>
    upstream.requests
      .slice(from)
      .flatMap((r) => (r.path.endsWith("/chat/completions") ? [(r.body as { model: string }).model] : []));

  it("serves a plain request on the first tier", async () => {
    const from = upstream.requests.length;
    const { response } = await client.chat.completions
      .create({ model: "r", messages: [{ role: "user", content: "Hi" }] })
      .withResponse();
    assert.equal(response.headers.get("x-tandem-target"), "oa/small");
    assert.deepEqual(askedSince(from), ["small"]);
  });

  it("skips a model without tools when the request offers tools, without calling it", async () => {
    const from = upstream.requests.length;
    const { response } = await client.chat.completions
      .create({ model: "r", messages: [{ role: "user", content: "Look up cat" }], tools: [TOOL] })
      .withResponse();
    assert.equal(response.headers.get("x-tandem-target"), "oa/big");
    assert.equal(response.headers.get("x-tandem-attempts"), "1");
    assert.match(response.headers.get("x-tandem-degraded") ?? "", /oa\/small: unsuitable .*calls no tools/);
    assert.deepEqual(askedSince(from), ["big"]);
  });

  it("keeps a model without tools when the request switches tools off (tool_choice none)", async () => {
    const from = upstream.requests.length;
    const { response } = await client.chat.completions
      .create({ model: "r", messages: [{ role: "user", content: "Hi" }], tools: [TOOL], tool_choice: "none" })
      .withResponse();
    assert.equal(response.headers.get("x-tandem-target"), "oa/small");
    assert.deepEqual(askedSince(from), ["small"]);
  });

  it("skips a model without JSON mode for response_format json_object and json_schema", async () => {
    upstream.script(() => ({ kind: "text", text: '{"ok":true}' }));
    for (const response_format of [
      { type: "json_object" as const },
      { type: "json_schema" as const, json_schema: { name: "x", schema: { type: "object", properties: {} } } },
    ]) {
      const from = upstream.requests.length;
      const { response } = await client.chat.completions
        .create({ model: "r", messages: [{ role: "user", content: "JSON please" }], response_format })
        .withResponse();
      assert.equal(response.headers.get("x-tandem-target"), "oa/big");
      assert.match(response.headers.get("x-tandem-degraded") ?? "", /oa\/small: unsuitable .*no JSON mode/);
      assert.deepEqual(askedSince(from), ["big"]);
    }
  });

  it("does not fall back to the unsuitable model when the one that can serve fails its quality check", async () => {
    // Not JSON: the JSON check fails the answer, and the route has nowhere suitable left.
    upstream.script(() => ({ kind: "text", text: "not json" }));
    const from = upstream.requests.length;
    await assert.rejects(
      client.chat.completions.create({
        model: "r",
        messages: [{ role: "user", content: "JSON" }],
        response_format: { type: "json_object" },
      }),
      (err: unknown) => err instanceof OpenAI.APIError && /oa\/big/.test(err.message) && !/oa\/small: quality/.test(err.message),
    );
    assert.deepEqual(askedSince(from), ["big"]);
    upstream.script(() => ({ kind: "text", text: "Hello" }));
  });

  it("skips a model configured without vision when the conversation has an image", async () => {
    const from = upstream.requests.length;
    const { response } = await client.chat.completions
      .create({
        model: "r",
        messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: IMAGE } }] }],
      })
      .withResponse();
    assert.equal(response.headers.get("x-tandem-target"), "oa/big");
    assert.match(response.headers.get("x-tandem-degraded") ?? "", /oa\/small: unsuitable .*reads text only/);
    assert.deepEqual(askedSince(from), ["big"]);
  });

  it("refuses an unknown capability name in the config, naming it", async () => {
    await assert.rejects(
      startTandem({
        providers: {
          // biome-ignore lint/suspicious/noExplicitAny: a config error on purpose
          oa: { kind: "openai", baseUrl: upstream.url, models: { small: { capabilities: { tool: false } as any } } },
        },
      }),
      /capabilities|tool/,
    );
  });
});
