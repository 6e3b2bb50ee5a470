/**
 * Anthropic SDK -> anthropic dialect -> AnthropicProvider -> fake Anthropic upstream, with a minimal
 * gateway in between (no router), so the two halves of this API family are checked against each other.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import Fastify, { type FastifyInstance } from "fastify";
import type { Gateway } from "../../../src/core/index.js";
import { GatewayError, type StreamEvent } from "../../../src/core/index.js";
import { anthropicDialect } from "../../../src/dialects/anthropic/index.js";
import { MemoryStateStore } from "../../../src/harness/state/memory-state-store.js";
import { AnthropicProvider } from "../../../src/providers/anthropic/index.js";
import { mountDialects } from "../../../src/server/mount-dialects.js";
import { type FakeAnthropic, startFakeAnthropic } from "../../support/fake-anthropic-upstream.js";
import { noLocalEngine } from "../../support/no-local-engine.js";

let fake: FakeAnthropic;
let provider: AnthropicProvider;
let app: FastifyInstance;
let client: Anthropic;

before(async () => {
  fake = await startFakeAnthropic({ models: ["claude-haiku-4-5"] });
  provider = new AnthropicProvider({ id: "claude", baseUrl: fake.url, apiKey: async () => "sk-ant-up" });
  const gateway: Gateway = {
    async chat(request, context) {
      const upstreamModel = request.model.split("/")[1] ?? request.model;
      const iterator = provider.chat({ ...request, upstreamModel }, context.signal)[Symbol.asyncIterator]();
      const first = await iterator.next();
      async function* events(): AsyncGenerator<StreamEvent> {
        if (!first.done) yield first.value;
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
      }
      return { meta: { route: undefined, target: request.model, attempts: 1, degraded: undefined }, events: events() };
    },
    async embed() {
      throw new GatewayError("invalid_request", "no");
    },
    async models() {
      return [];
    },
    async model(name) {
      throw new GatewayError("not_found", name);
    },
    ...noLocalEngine,
    async countTokens() {
      throw new GatewayError("invalid_request", "no");
    },
  };
  app = Fastify();
  app.setErrorHandler((err, _req, reply) => {
    const r = anthropicDialect.renderError(GatewayError.from(err));
    reply.code(r.status).send(r.body);
  });
  mountDialects(app, [anthropicDialect], gateway, { state: new MemoryStateStore() });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  assert.ok(typeof address === "object" && address);
  client = new Anthropic({ baseURL: `http://127.0.0.1:${address.port}`, apiKey: "client-key", maxRetries: 0 });
});

after(async () => {
  await app.close();
  await provider.close();
  await fake.close();
});

const MODEL = "claude/claude-haiku-4-5";

describe("Anthropic client through the Anthropic provider", () => {
  it("text, not streamed and streamed, with usage", async () => {
    fake.script(() => ({ kind: "text", text: "The quick brown fox.", usage: { input: 12, output: 10 } }));
    const message = await client.messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: "user", content: "Hi" }] });
    assert.deepEqual(message.content, [{ type: "text", text: "The quick brown fox." }]);
    assert.equal(message.model, MODEL);
    assert.equal(message.stop_reason, "end_turn");
    assert.equal(message.usage.input_tokens, 12);
    assert.equal(message.usage.output_tokens, 10);
    assert.match(message.id, /^msg_/);

    const final = await client.messages
      .stream({ model: MODEL, max_tokens: 64, messages: [{ role: "user", content: "Hi" }] })
      .finalMessage();
    assert.deepEqual(final.content, [{ type: "text", text: "The quick brown fox.", citations: null }]);
    assert.equal(final.usage.output_tokens, 10);
    assert.equal(fake.requests.at(-1)?.headers["x-api-key"], "sk-ant-up", "the upstream key, not the client's");
  });

  it("a tool-call round trip keeps ids and arguments", async () => {
    fake.script((req) => {
      // The client's own body (same-wire pass-through): content may be a string, as the client wrote it.
      const messages = (req.body as { messages: { content: string | { type: string; content?: string }[] }[] }).messages;
      const content = messages.at(-1)?.content;
      const result = Array.isArray(content) ? content.find((b) => b.type === "tool_result") : undefined;
      return result
        ? { kind: "text", text: `Weather says: ${result.content}` }
        : { kind: "tool_calls", calls: [{ id: "toolu_up1", name: "get_weather", arguments: { city: "Paris" } }] };
    });
    const tools: Anthropic.Tool[] = [
      { name: "get_weather", input_schema: { type: "object", properties: { city: { type: "string" } } } },
    ];
    const messages: Anthropic.MessageParam[] = [{ role: "user", content: "Weather in Paris?" }];
    const first = await client.messages.stream({ model: MODEL, max_tokens: 64, messages, tools }).finalMessage();
    assert.equal(first.stop_reason, "tool_use");
    const use = { type: "tool_use", id: "toolu_up1", name: "get_weather", input: { city: "Paris" }, caller: { type: "direct" } };
    assert.deepEqual(first.content, [use]);
    messages.push({ role: "assistant", content: first.content });
    messages.push({ role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_up1", content: "21C" }] });
    const second = await client.messages.create({ model: MODEL, max_tokens: 64, messages, tools });
    assert.deepEqual(second.content, [{ type: "text", text: "Weather says: 21C" }]);
    const upstream = fake.requests.at(-1)?.body as { messages: unknown[] };
    // Passed through as the client wrote them (an Anthropic target takes the client's own body).
    assert.deepEqual(upstream.messages.slice(1), [
      { role: "assistant", content: [use] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_up1", content: "21C" }] },
    ]);
  });

  it("an upstream 529 reaches the client as 529 overloaded_error", async () => {
    fake.script(() => ({ kind: "error", status: 529 }));
    await assert.rejects(
      client.messages.create({ model: MODEL, max_tokens: 8, messages: [{ role: "user", content: "x" }] }),
      (err: unknown) => {
        assert.ok(err instanceof Anthropic.InternalServerError);
        assert.equal(err.status, 529);
        assert.equal(err.type, "overloaded_error");
        return true;
      },
    );
  });

  it("an upstream 429 reaches the client as RateLimitError", async () => {
    fake.script(() => ({ kind: "error", status: 429, message: "slow down" }));
    await assert.rejects(
      client.messages.create({ model: MODEL, max_tokens: 8, messages: [{ role: "user", content: "x" }] }),
      (err: unknown) => {
        assert.ok(err instanceof Anthropic.RateLimitError);
        assert.equal(err.type, "rate_limit_error");
        return true;
      },
    );
  });

  it("an in-stream overload after the first token reaches the client as an error event", async () => {
    fake.script(() => ({ kind: "stream_error", chunks: ["Par", "tial"], errorType: "overloaded_error" }));
    const stream = client.messages.stream({ model: MODEL, max_tokens: 8, messages: [{ role: "user", content: "x" }] });
    let text = "";
    stream.on("text", (t) => {
      text += t;
    });
    await assert.rejects(stream.finalMessage(), (err: unknown) => {
      assert.ok(err instanceof Anthropic.APIError);
      assert.equal(err.type, "overloaded_error");
      return true;
    });
    assert.equal(text, "Partial");
  });
});
