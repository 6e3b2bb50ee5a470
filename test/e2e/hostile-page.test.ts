/**
 * What a hostile web page can make the user's browser send to tandem on 127.0.0.1, sent as the browser
 * would send it: a DNS-rebinding page (its own name, now resolving to 127.0.0.1, in `Host`) and another
 * site's simple cross-origin requests (text/plain, form and multipart bodies, which need no preflight).
 * Every route the server mounts is tried; each must be refused in its dialect's shape before any
 * upstream is called or any model pulled. Then the other side: allowed origins get CORS answers and
 * preflights, and the official SDKs still work with their default headers.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { type FakeHfHub, startFakeHfHub } from "../support/fake-hf-hub.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const MODEL = "up/gpt-4o-mini";
const PULL_NAME = "hf.co/tandem-tests/Chat-GGUF:Q4_K_M";

/** A body that would do real work on any of the JSON endpoints: chat, completion, embedding, pull. */
const WORK = JSON.stringify({
  model: MODEL,
  name: PULL_NAME,
  messages: [{ role: "user", content: "spend the user's cloud credit" }],
  prompt: "spend the user's cloud credit",
  input: "spend the user's cloud credit",
  max_tokens: 16,
  stream: false,
});
const PULL = JSON.stringify({ model: PULL_NAME, stream: false });

type Dialect = "openai" | "anthropic" | "ollama" | "mcp";

function dialectOf(path: string): Dialect {
  // MCP clients read JSON-RPC errors, as the MCP SDK's own transport answers them.
  if (path === "/mcp") return "mcp";
  if (path.startsWith("/api/")) return "ollama";
  if (path.startsWith("/v1/messages")) return "anthropic";
  return "openai";
}

function assertShape(dialect: Dialect, body: string, context: string): string {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
  } catch {
    assert.fail(`${context}: not JSON: ${body.slice(0, 200)}`);
  }
  if (dialect === "openai") {
    const e = parsed.error as Record<string, unknown> | undefined;
    assert.equal(typeof e?.message, "string", `${context}: OpenAI error.message`);
    assert.equal(typeof e?.type, "string", `${context}: OpenAI error.type`);
    return e?.message as string;
  }
  if (dialect === "mcp") {
    assert.equal(parsed.jsonrpc, "2.0", `${context}: JSON-RPC version`);
    assert.equal(parsed.id, null, `${context}: JSON-RPC id`);
    const e = parsed.error as Record<string, unknown> | undefined;
    assert.equal(typeof e?.code, "number", `${context}: JSON-RPC error.code`);
    return e?.message as string;
  }
  if (dialect === "anthropic") {
    assert.equal(parsed.type, "error", `${context}: Anthropic type`);
    const e = parsed.error as Record<string, unknown> | undefined;
    assert.equal(typeof e?.type, "string", `${context}: Anthropic error.type`);
    return e?.message as string;
  }
  assert.equal(typeof parsed.error, "string", `${context}: Ollama error`);
  return parsed.error as string;
}

interface Sent {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request with exactly these headers (Host included), as a browser puts them on the wire. */
function send(url: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const all: Record<string, string | number> = { ...headers };
    if (body !== undefined) all["content-length"] = Buffer.byteLength(body);
    const req = request(`${url}${path}`, { method, headers: all, setHost: !("host" in headers) }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        text += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    // A refused request's body may be left unread and its connection closed.
    req.on("error", (err) => (/EPIPE|ECONNRESET/.test(err.message) ? undefined : reject(err)));
    req.end(body);
  });
}

/** A concrete path for a route (`/v1/models/*` -> `/v1/models/x`, `:id` -> `x`). */
function concrete(url: string): string {
  return url.replace(/:[^/]+/g, "x").replace(/\*/g, "x");
}

let upstream: FakeOpenAIUpstream;
let hub: FakeHfHub;
let tandem: RunningTandem;
let port: string;

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt-4o-mini", "text-embedding-3-small"] });
  hub = await startFakeHfHub({
    repos: [{ id: "tandem-tests/Chat-GGUF", files: [{ path: "chat-Q4_K_M.gguf", content: Buffer.from("GGUF not really") }] }],
  });
  tandem = await startTandem(
    {
      server: { cors: { origins: ["chrome-extension://*", "https://app.example.com"] } },
      providers: { up: { kind: "openai", baseUrl: upstream.url }, local: { kind: "llamacpp", threads: 1 } },
    },
    { env: { HF_ENDPOINT: hub.url }, store: true },
  );
  port = new URL(tandem.url).port;
});

after(async () => {
  await tandem?.close();
  await hub?.close();
  await upstream?.close();
});

/** Nothing reached an upstream or the hub, and the models folder got nothing. */
function assertNoWork(context: string): void {
  const work = upstream.requests.filter((r) => r.method !== "GET");
  assert.equal(work.length, 0, `${context}: the upstream was called: ${work.map((r) => r.path).join(", ")}`);
  assert.equal(hub.requests.length, 0, `${context}: the hub was called: ${hub.requests.map((r) => r.path).join(", ")}`);
}

describe("a DNS-rebinding page", () => {
  const hosts = () => [
    "attacker.example",
    `attacker.example:${port}`,
    `127.0.0.1.nip.io:${port}`,
    `rebind.attacker.example:${port}`,
  ];
  const named = [
    { method: "GET", path: "/v1/status" },
    { method: "GET", path: "/v1/audit" },
    { method: "GET", path: "/metrics" },
    { method: "POST", path: "/v1/chat/completions" },
    { method: "POST", path: "/v1/messages" },
    { method: "POST", path: "/api/chat" },
    { method: "POST", path: "/api/pull" },
  ];

  it("reads and drives nothing: the named endpoints answer 403 in their dialect's shape", async () => {
    for (const host of hosts()) {
      for (const { method, path } of named) {
        const body = method === "POST" ? (path === "/api/pull" ? PULL : WORK) : undefined;
        // After rebinding the page is same-origin to itself, so a fetch() sends JSON and its own Origin.
        for (const origin of [undefined, `http://${host}`]) {
          const headers: Record<string, string> = { host, ...(origin && { origin }) };
          if (body) headers["content-type"] = "application/json";
          const res = await send(tandem.url, method, path, headers, body);
          const context = `${method} ${path} Host: ${host}${origin ? ` Origin: ${origin}` : ""}`;
          assert.equal(res.status, 403, `${context}: ${res.body.slice(0, 200)}`);
          const message = assertShape(dialectOf(path), res.body, context);
          assert.match(message, /Host .* is not allowed/, context);
          assert.ok(!res.body.includes("targets") && !res.body.includes("tandem_"), `${context}: leaked data`);
          assert.equal(res.headers["access-control-allow-origin"], undefined, context);
        }
      }
    }
    assertNoWork("rebinding");
  });

  it("is refused on every route the server mounts, before the key check", async () => {
    const locked = await startTandem(
      { providers: { up: { kind: "openai", baseUrl: upstream.url } } },
      { clientKeys: ["secret-client-key"] },
    );
    try {
      const routes = locked.server.routes.filter((r) => r.method !== "HEAD");
      assert.ok(routes.length > 10, "the server lists its routes");
      for (const route of routes) {
        const path = concrete(route.url);
        const body = route.method === "GET" ? undefined : WORK;
        const headers: Record<string, string> = { host: `attacker.example:${port}` };
        if (body) headers["content-type"] = "application/json";
        const res = await send(locked.url, route.method, path, headers, body);
        const context = `${route.method} ${path}`;
        // 403, not 401: a refused page does not even learn that a key would be needed.
        assert.equal(res.status, 403, `${context}: ${res.body.slice(0, 200)}`);
        if (path !== "/" && path !== "/health" && path !== "/ready") assertShape(dialectOf(path), res.body, context);
      }
    } finally {
      await locked.close();
    }
    assertNoWork("rebinding, every route");
  });
});

describe("another site's simple requests (no preflight)", () => {
  const contentTypes = [
    "text/plain;charset=UTF-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW",
    undefined,
  ];

  function stateChanging(): { method: string; url: string }[] {
    const routes = tandem.server.routes.filter(
      (r) => r.method === "POST" || r.method === "DELETE" || r.method === "PUT" || r.method === "PATCH",
    );
    // The list comes from the server; these must be among them.
    for (const path of [
      "/v1/chat/completions",
      "/v1/completions",
      "/v1/embeddings",
      "/v1/messages",
      "/v1/messages/count_tokens",
      "/api/chat",
      "/api/generate",
      "/api/embed",
      "/api/pull",
    ]) {
      assert.ok(
        routes.some((r) => r.url === path),
        `${path} is mounted`,
      );
    }
    return routes;
  }

  it("is refused with 403 on every state-changing route, whatever the content type", async () => {
    for (const route of stateChanging()) {
      const path = concrete(route.url);
      for (const contentType of contentTypes) {
        const headers: Record<string, string> = { origin: "https://evil.example" };
        if (contentType) headers["content-type"] = contentType;
        const res = await send(tandem.url, route.method, path, headers, path === "/api/pull" ? PULL : WORK);
        const context = `${route.method} ${path} ${contentType ?? "(no content type)"}`;
        assert.equal(res.status, 403, `${context}: ${res.body.slice(0, 200)}`);
        assert.match(assertShape(dialectOf(path), res.body, context), /Origin 'https:\/\/evil\.example' is not allowed/, context);
        assert.equal(res.headers["access-control-allow-origin"], undefined, context);
      }
    }
    assertNoWork("cross-site");
  });

  it("is refused with 415 when no Origin comes with it (bodies must be labelled JSON)", async () => {
    for (const route of stateChanging()) {
      const path = concrete(route.url);
      // An upload takes multipart/form-data, from clients that are not a page (a page's request
      // carries an Origin, refused above): its body here is no form, so it is a 400.
      const upload = path === "/v1/files";
      for (const contentType of contentTypes) {
        const headers: Record<string, string> = {};
        if (contentType) headers["content-type"] = contentType;
        const res = await send(tandem.url, route.method, path, headers, path === "/api/pull" ? PULL : WORK);
        const context = `${route.method} ${path} ${contentType ?? "(no content type)"}`;
        if (upload && contentType?.startsWith("multipart/form-data")) {
          assert.equal(res.status, 400, `${context}: ${res.body.slice(0, 200)}`);
          assertShape(dialectOf(path), res.body, context);
          continue;
        }
        assert.equal(res.status, 415, `${context}: ${res.body.slice(0, 200)}`);
        const message = assertShape(dialectOf(path), res.body, context);
        assert.ok(
          message.includes(contentType ? (contentType.split(";")[0] ?? "") : "without a Content-Type"),
          `${context}: names what came: ${message}`,
        );
        const expected = upload ? "multipart/form-data" : "application/json";
        assert.ok(message.includes(expected), `${context}: names what is expected: ${message}`);
      }
    }
    assertNoWork("no content type");
  });

  it("is refused as a CORS preflight too (no CORS headers, so the browser sends nothing)", async () => {
    for (const path of ["/v1/chat/completions", "/v1/messages", "/api/chat", "/api/pull"]) {
      const res = await send(tandem.url, "OPTIONS", path, {
        origin: "https://evil.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      });
      assert.equal(res.status, 403, `${path}: ${res.body}`);
      assert.equal(res.headers["access-control-allow-origin"], undefined, path);
      assert.equal(res.headers["access-control-allow-methods"], undefined, path);
    }
    const opaque = await send(tandem.url, "POST", "/api/chat", { origin: "null", "content-type": "text/plain" }, WORK);
    assert.equal(opaque.status, 403, opaque.body);
    assertNoWork("preflight");
  });
});

describe("allowed pages and clients", () => {
  it("answers an allowed origin with CORS headers its page can read", async () => {
    const before = upstream.requests.length;
    for (const origin of [
      "chrome-extension://abcdefghijklmnop",
      "https://app.example.com",
      "http://localhost:5173",
      "http://127.0.0.1:3000",
    ]) {
      const res = await send(tandem.url, "POST", "/v1/chat/completions", { origin, "content-type": "application/json" }, WORK);
      assert.equal(res.status, 200, `${origin}: ${res.body}`);
      assert.equal(res.headers["access-control-allow-origin"], origin);
      assert.match(String(res.headers.vary), /Origin/);
      const exposed = String(res.headers["access-control-expose-headers"]).split(/,\s*/);
      // With what the SDKs read of an answer: the request id each names its own way, and x-should-retry.
      for (const header of [
        "x-tandem-target",
        "x-tandem-route",
        "x-tandem-attempts",
        "x-tandem-degraded",
        "retry-after",
        "x-should-retry",
        "x-request-id",
        "request-id",
      ]) {
        assert.ok(exposed.includes(header), `${header} exposed`);
      }
      assert.equal(res.headers["x-tandem-target"], MODEL);
    }
    assert.equal(upstream.requests.length, before + 4);
    // Streams write their own head; the CORS headers must be on it too.
    const streamed = await send(
      tandem.url,
      "POST",
      "/api/chat",
      { origin: "https://app.example.com", "content-type": "application/json" },
      JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "hi" }] }),
    );
    assert.equal(streamed.status, 200, streamed.body);
    assert.equal(streamed.headers["access-control-allow-origin"], "https://app.example.com");
    // Errors too, so the page can show them.
    const error = await send(
      tandem.url,
      "POST",
      "/v1/messages",
      { origin: "https://app.example.com", "content-type": "application/json" },
      "{}",
    );
    assert.equal(error.status, 400);
    assert.equal(error.headers["access-control-allow-origin"], "https://app.example.com");
  });

  it("answers an allowed origin's preflight without a key: methods, headers, max age, private network", async () => {
    const locked = await startTandem(
      {
        server: { cors: { origins: ["https://app.example.com"] } },
        providers: { up: { kind: "openai", baseUrl: upstream.url } },
      },
      { clientKeys: ["secret-client-key"] },
    );
    try {
      const asked = "authorization,content-type,x-stainless-os,x-stainless-retry-count,anthropic-dangerous-direct-browser-access";
      const res = await send(locked.url, "OPTIONS", "/v1/chat/completions", {
        origin: "https://app.example.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": asked,
        "access-control-request-private-network": "true",
      });
      assert.equal(res.status, 204, res.body);
      assert.equal(res.headers["access-control-allow-origin"], "https://app.example.com");
      assert.match(String(res.headers["access-control-allow-methods"]), /POST/);
      assert.equal(res.headers["access-control-allow-headers"], asked);
      assert.ok(Number(res.headers["access-control-max-age"]) > 0);
      assert.equal(res.headers["access-control-allow-private-network"], "true");
      // Without a list of its own, the SDKs' headers are allowed.
      const bare = await send(locked.url, "OPTIONS", "/v1/messages", {
        origin: "https://app.example.com",
        "access-control-request-method": "POST",
      });
      assert.equal(bare.status, 204);
      for (const header of [
        "authorization",
        "content-type",
        "x-api-key",
        "anthropic-version",
        "anthropic-beta",
        "openai-beta",
        "x-stainless-os",
      ]) {
        assert.ok(String(bare.headers["access-control-allow-headers"]).includes(header), header);
      }
      // The real request still needs the key.
      const unkeyed = await send(
        locked.url,
        "POST",
        "/v1/chat/completions",
        { origin: "https://app.example.com", "content-type": "application/json" },
        WORK,
      );
      assert.equal(unkeyed.status, 401);
    } finally {
      await locked.close();
    }
  });

  it("the official SDKs still work with their default headers", async () => {
    const openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const completion = await openai.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi" }] });
    assert.equal(completion.choices[0]?.message.content, "Hello from openai");
    const stream = await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    assert.equal(text, "Hello from openai");
    const embedding = await openai.embeddings.create({ model: "up/text-embedding-3-small", input: "hi" });
    assert.ok(embedding.data[0]?.embedding.length);

    const anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
    const message = await anthropic.messages.create({
      model: MODEL,
      max_tokens: 16,
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(message.content[0]?.type === "text" && message.content[0].text, "Hello from openai");
    const count = await anthropic.messages.countTokens({ model: MODEL, messages: [{ role: "user", content: "hi" }] });
    assert.ok(count.input_tokens > 0);

    const ollama = new Ollama({ host: tandem.url });
    const chat = await ollama.chat({ model: MODEL, messages: [{ role: "user", content: "hi" }] });
    assert.equal(chat.message.content, "Hello from openai");
    const generated = await ollama.generate({ model: MODEL, prompt: "hi" });
    assert.equal(generated.response, "Hello from openai");
  });
});
