/**
 * The dialect registry and the server's mounting of route tables: which dialect a request speaks
 * (and so renders its errors), a path two dialects serve (GET /v1/models) answered by the one that
 * claims the request, and a route that takes its body raw.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import Fastify, { type FastifyInstance } from "fastify";
import OpenAI from "openai";
import { GatewayError } from "../../src/core/index.js";
import { DEFAULT_DIALECT, DIALECTS, type Dialect, dialectFor } from "../../src/dialects/index.js";
import { RouteTable } from "../../src/dialects/shared/index.js";
import { MemoryStateStore } from "../../src/harness/state/memory-state-store.js";
import { mountDialects } from "../../src/server/mount-dialects.js";
import { StubGateway, TARGET } from "../dialects/openai/stub-gateway.js";

const head = (url: string, headers: Record<string, string> = {}) => ({ url, headers });

describe("dialectFor", () => {
  it("tells the dialect by path, and Anthropic's clients by their anthropic-version header", () => {
    const cases: [ReturnType<typeof head>, string][] = [
      [head("/api/tags"), "ollama"],
      [head("/api"), "ollama"],
      [head("/api/chat", { "anthropic-version": "2023-06-01" }), "ollama"],
      [head("/v1/messages"), "anthropic"],
      [head("/v1/messages/count_tokens"), "anthropic"],
      [head("/v1/models", { "anthropic-version": "2023-06-01" }), "anthropic"],
      [head("/v1/models"), "openai"],
      [head("/v1/chat/completions"), "openai"],
      // A client that sends anthropic-version everywhere still gets OpenAI's errors on OpenAI's own paths.
      [head("/v1/chat/completions", { "anthropic-version": "2023-06-01" }), "openai"],
      [head("/v1/responses/resp_1", { "anthropic-version": "2023-06-01" }), "openai"],
      [head("/v1/embeddings?x=1", { "anthropic-version": "2023-06-01" }), "openai"],
      [head("/v1/no-such-path", { "anthropic-version": "2023-06-01" }), "anthropic"],
      [head("/v1/no-such-path"), "openai"],
      [head("/health"), "openai"],
      [head("/"), "openai"],
      [head("/apis"), "openai"],
    ];
    for (const [request, name] of cases) assert.equal(dialectFor(request).name, name, request.url);
    assert.equal(DEFAULT_DIALECT.name, "openai");
    assert.deepEqual(
      DIALECTS.map((d) => d.name),
      ["ollama", "anthropic", "openai"],
    );
  });
});

/** Mounts `dialects` on an app that renders errors as the server does, and listens on loopback. */
async function listen(app: FastifyInstance): Promise<string> {
  app.setErrorHandler((err, request, reply) => {
    const rendered = dialectFor(request).renderError(GatewayError.from(err));
    reply.code(rendered.status).send(rendered.body);
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

describe("the registry's dialects mounted together", () => {
  const gateway = new StubGateway();
  const app = Fastify();
  let url = "";
  before(async () => {
    mountDialects(app, DIALECTS, gateway, { state: new MemoryStateStore() });
    url = await listen(app);
  });
  after(() => app.close());

  it("answers GET /v1/models in OpenAI's shape, and in Anthropic's to Anthropic's SDK", async () => {
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: "x", maxRetries: 0 });
    const ids: string[] = [];
    for await (const model of openai.models.list()) {
      assert.equal(model.object, "model");
      ids.push(model.id);
    }
    assert.deepEqual(ids, [TARGET, "auto"]);
    assert.equal((await openai.models.retrieve(TARGET)).owned_by, "fake");

    const anthropic = new Anthropic({ baseURL: url, apiKey: "x", maxRetries: 0 });
    const page = await anthropic.models.list();
    assert.deepEqual(
      page.data.map((m) => [m.type, m.id]),
      [
        ["model", TARGET],
        ["model", "auto"],
      ],
    );
    const one = await anthropic.models.retrieve("auto");
    assert.equal(one.type, "model");
    assert.equal(one.created_at, "1970-01-01T00:00:00Z");
  });

  it("answers an unknown model on /v1/models/{id} with 404 in the asking client's shape", async () => {
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: "x", maxRetries: 0 });
    await assert.rejects(openai.models.retrieve("nope"), (err: unknown) => err instanceof OpenAI.NotFoundError);
    const anthropic = new Anthropic({ baseURL: url, apiKey: "x", maxRetries: 0 });
    await assert.rejects(anthropic.models.retrieve("nope"), (err: unknown) => {
      assert.ok(err instanceof Anthropic.NotFoundError);
      assert.equal((err.error as { type?: string }).type, "error");
      return true;
    });
  });
});

/** A minimal dialect for the mounting rules alone. */
function fakeDialect(name: string, speaks: Dialect["speaks"], fill: (table: RouteTable) => void): Dialect {
  return {
    name,
    speaks,
    routes() {
      const table = new RouteTable();
      fill(table);
      return table.routes;
    },
    renderError: (error) => ({ status: error.status, body: { dialect: name, message: error.message } }),
  };
}

describe("mountDialects", () => {
  const app = Fastify();
  let url = "";
  before(async () => {
    const loud = fakeDialect(
      "loud",
      (request) => request.headers["x-loud"] !== undefined,
      (table) => {
        table.get("/shared", async () => ({ from: "loud" }));
        table.post(
          "/upload",
          async (request) => {
            let bytes = 0;
            for await (const chunk of request.raw) bytes += (chunk as Buffer).length;
            return { bytes };
          },
          {
            rawBody: (type) =>
              type === "application/octet-stream"
                ? undefined
                : new GatewayError("unsupported_media_type", `not a blob: ${type ?? "no type"}`),
          },
        );
      },
    );
    const plain = fakeDialect(
      "plain",
      () => false,
      (table) => {
        table.get("/shared", async () => ({ from: "plain" }));
        table.post("/json", async (request) => ({ got: request.body }));
      },
    );
    mountDialects(app, [loud, plain], new StubGateway(), { state: new MemoryStateStore() });
    url = await listen(app);
  });
  after(() => app.close());

  it("mounts a shared path once and lets the dialect that claims the request answer, else the last", async () => {
    assert.deepEqual(await (await fetch(`${url}/shared`, { headers: { "x-loud": "1" } })).json(), { from: "loud" });
    assert.deepEqual(await (await fetch(`${url}/shared`)).json(), { from: "plain" });
  });

  it("passes a raw body through unparsed when its type is accepted, and refuses other types with the route's error", async () => {
    const body = new Uint8Array(3000).fill(7);
    const ok = await fetch(`${url}/upload`, { method: "POST", headers: { "content-type": "application/octet-stream" }, body });
    assert.deepEqual(await ok.json(), { bytes: 3000 });
    const refused = await fetch(`${url}/upload`, { method: "POST", headers: { "content-type": "text/plain" }, body: "x" });
    assert.equal(refused.status, 415);
    // Other routes keep parsing JSON.
    const json = await fetch(`${url}/json`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ a: 1 }),
    });
    assert.deepEqual(await json.json(), { got: { a: 1 } });
  });
});
