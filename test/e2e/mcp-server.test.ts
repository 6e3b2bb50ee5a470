/**
 * tandem as an MCP server: the MCP SDK's own client over Streamable HTTP against a real tandem at
 * /mcp. It lists the tools, asks a model through the gateway (the fake upstream gets the prompt;
 * privacy keeps a private prompt local or refuses it), reads and writes the user's memories, answers
 * bad calls with tool errors, and sits behind the same front door as the API (the key, Origin).
 */
import assert from "node:assert/strict";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { MAX_MCP_BATCH } from "../../src/server/mcp-route.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream, RecordedRequest } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const KEY = "mcp-client-key-0123456789";

let local: FakeUpstream;
let cloud: FakeUpstream;
let tandem: RunningTandem;
const log: string[] = [];

before(async () => {
  local = await startFakeOpenAI({ models: ["tiny"] });
  cloud = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  local.script(() => ({ kind: "text", text: "Local says hi", usage: { input: 7, output: 3 } }));
  cloud.script(() => ({ kind: "text", text: "Cloud says hi", usage: { input: 9, output: 3 } }));
  tandem = await startTandem(
    {
      providers: {
        local: { kind: "openai", baseUrl: local.url, apiKeys: ["env:UP_KEY"], local: true },
        cloud: { kind: "openai", baseUrl: cloud.url, apiKeys: ["env:UP_KEY"], local: false },
      },
      routes: {
        hybrid: { tiers: ["cloud/gpt-4o-mini", "local/tiny"] },
        "cloud-only": { tiers: ["cloud/gpt-4o-mini"] },
      },
    },
    { env: { UP_KEY: "sk-up" }, clientKeys: [KEY], log },
  );
});

after(async () => {
  await tandem?.close();
  await local?.close();
  await cloud?.close();
});

async function connect(headers: Record<string, string> = { authorization: `Bearer ${KEY}` }): Promise<Client> {
  const client = new Client({ name: "tandem-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${tandem.url}/mcp`), { requestInit: { headers } }));
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

const textOf = (result: CallToolResult): string =>
  result.content.map((part) => (part.type === "text" ? part.text : "")).join("\n");

const promptOf = (request: RecordedRequest | undefined): string => {
  const messages = ((request?.body ?? {}) as { messages?: { role: string; content: unknown }[] }).messages ?? [];
  return messages.map((m) => `${m.role}: ${typeof m.content === "string" ? m.content : JSON.stringify(m.content)}`).join("\n");
};

describe("tandem's MCP server over Streamable HTTP", () => {
  let client: Client;

  before(async () => {
    client = await connect();
  });
  after(() => client?.close());

  it("initializes as tandem and lists its tools, each with a JSON Schema input", async () => {
    assert.equal(client.getServerVersion()?.name, "tandem");
    assert.ok(client.getServerCapabilities()?.tools);
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ["ask_model", "forget", "list_models", "remember", "search_memories"]);
    const ask = tools.find((t) => t.name === "ask_model");
    assert.equal(ask?.inputSchema.type, "object");
    assert.deepEqual([...(ask?.inputSchema.required ?? [])].sort(), ["model", "prompt"]);
    assert.ok(ask?.description?.includes("local"));
  });

  it("list_models names the targets and routes, local or not", async () => {
    const result = await call(client, "list_models", {});
    assert.notEqual(result.isError, true);
    const models = (result.structuredContent as { models: { name: string; kind: string; local?: boolean }[] }).models;
    const byName = new Map(models.map((m) => [m.name, m]));
    assert.deepEqual(byName.get("local/tiny"), { name: "local/tiny", kind: "target", local: true });
    assert.equal(byName.get("cloud/gpt-4o-mini")?.local, false);
    assert.equal(byName.get("hybrid")?.kind, "route");
    assert.equal(byName.get("hybrid")?.local, false);
    assert.match(textOf(result), /^local\/tiny \(target, local\)$/m);
  });

  it("ask_model answers through the gateway and names the target that answered", async () => {
    const before = cloud.requests.length;
    const result = await call(client, "ask_model", {
      model: "hybrid",
      prompt: "What is the capital of Portugal?",
      system: "Answer in one word.",
      max_tokens: 50,
    });
    assert.notEqual(result.isError, true, textOf(result));
    const sent = cloud.requests.slice(before).find((r) => r.path.endsWith("/chat/completions"));
    assert.match(promptOf(sent), /system: Answer in one word\.\nuser: .*What is the capital of Portugal\?/s);
    assert.equal(
      (sent?.body as { max_tokens?: number; max_completion_tokens?: number }).max_completion_tokens ??
        (sent?.body as { max_tokens?: number }).max_tokens,
      50,
    );
    const out = result.structuredContent as Record<string, unknown>;
    assert.equal(out.answer, "Cloud says hi");
    assert.equal(out.target, "cloud/gpt-4o-mini");
    assert.equal(out.route, "hybrid");
    assert.equal(out.finish_reason, "stop");
    assert.equal(result.content[0]?.type === "text" && result.content[0].text, "Cloud says hi");
    assert.match(textOf(result), /answered by cloud\/gpt-4o-mini via route hybrid/);
    // The server's log line for the call says what answered, as for any model request; never the prompt.
    const line = log.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.dialect === "mcp" && l.target);
    assert.equal(line?.path, "/mcp");
    assert.equal(line?.route, "hybrid");
    assert.equal(line?.target, "cloud/gpt-4o-mini");
    assert.ok(!log.join("\n").includes("capital of Portugal"));
  });

  it("a private prompt on a route with a cloud tier stays on this machine", async () => {
    const cloudBefore = cloud.requests.length;
    const localBefore = local.requests.length;
    // Declared private, and detected private (an email address): both stay local.
    for (const args of [
      { model: "hybrid", prompt: "Summarise my diary entry", sensitivity: "private" },
      { model: "hybrid", prompt: "Write to jane.doe@example.com about the lease" },
    ]) {
      const result = await call(client, "ask_model", args);
      assert.notEqual(result.isError, true, textOf(result));
      const out = result.structuredContent as Record<string, unknown>;
      assert.equal(out.target, "local/tiny");
      assert.equal(out.answer, "Local says hi");
      assert.equal(out.sensitivity, "private");
    }
    assert.equal(cloud.requests.slice(cloudBefore).filter((r) => r.path.endsWith("/chat/completions")).length, 0);
    assert.match(promptOf(local.requests.slice(localBefore).at(-1)), /jane\.doe@example\.com/);
  });

  it("a private prompt on a route with only cloud tiers is refused, as a tool error", async () => {
    const cloudBefore = cloud.requests.length;
    const result = await call(client, "ask_model", { model: "cloud-only", prompt: "My diary", sensitivity: "private" });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /private|local/i);
    assert.equal(cloud.requests.slice(cloudBefore).filter((r) => r.path.endsWith("/chat/completions")).length, 0);
  });

  it("an unknown model is a tool error listing what exists", async () => {
    const result = await call(client, "ask_model", { model: "nope/nothing", prompt: "hi" });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /nope\/nothing/);
    assert.match(textOf(result), /not_found/);
  });

  it("bad arguments are tool errors, an unknown tool is a protocol error, and the server carries on", async () => {
    const missing = await call(client, "ask_model", { model: "hybrid" });
    assert.equal(missing.isError, true);
    assert.match(textOf(missing), /prompt/);
    const wrongType = await call(client, "ask_model", { model: "hybrid", prompt: "hi", max_tokens: "lots" });
    assert.equal(wrongType.isError, true);
    assert.match(textOf(wrongType), /max_tokens/);
    const badLevel = await call(client, "remember", { text: "x", sensitivity: "secret" });
    assert.equal(badLevel.isError, true);
    // The specification: "errors in finding the tool ... should be reported as an MCP error response".
    await assert.rejects(call(client, "rm_rf", {}), (err: { code?: number; message?: string }) => {
      return err.code === -32602 && /Unknown tool: rm_rf/.test(err.message ?? "");
    });
    assert.notEqual((await call(client, "list_models", {})).isError, true);
  });

  it("remember, search_memories and forget read and write the user's memories, as the HTTP API does", async () => {
    const saved = await call(client, "remember", { text: "The user keeps bees on the roof", metadata: { topic: "hobby" } });
    assert.notEqual(saved.isError, true, textOf(saved));
    const { id, sensitivity } = saved.structuredContent as { id: string; sensitivity: string };
    assert.match(id, /^mem_/);
    assert.equal(sensitivity, "public");
    const secret = await call(client, "remember", { text: "The user's bee allergy doctor is Dr Rowe", sensitivity: "private" });
    const secretId = (secret.structuredContent as { id: string }).id;

    // The HTTP API sees what the MCP client saved, with its metadata and source.
    const viaApi = (await (
      await fetch(`${tandem.url}/v1/memories/${id}`, { headers: { authorization: `Bearer ${KEY}` } })
    ).json()) as { text: string; metadata: Record<string, string> };
    assert.equal(viaApi.text, "The user keeps bees on the roof");
    assert.deepEqual(viaApi.metadata, { source: "mcp", topic: "hobby" });

    const found = await call(client, "search_memories", { query: "bees" });
    assert.notEqual(found.isError, true);
    const hits = (found.structuredContent as { memories: { id: string; text: string | null; sensitivity: string }[] }).memories;
    assert.deepEqual(hits.map((h) => h.id).sort(), [id, secretId].sort());
    assert.equal(hits.find((h) => h.id === id)?.text, "The user keeps bees on the roof");
    // A private memory's text does not go to an MCP client (most are agents over cloud models).
    assert.equal(hits.find((h) => h.id === secretId)?.text, null);
    assert.doesNotMatch(textOf(found), /Rowe/);

    const forgot = await call(client, "forget", { id });
    assert.notEqual(forgot.isError, true);
    const again = await call(client, "forget", { id });
    assert.equal(again.isError, true);
    assert.match(textOf(again), /No memory has the id/);
    const after = await call(client, "search_memories", { query: "bees" });
    assert.deepEqual(
      (after.structuredContent as { memories: { id: string }[] }).memories.map((m) => m.id),
      [secretId],
    );
    await call(client, "forget", { id: secretId });
  });

  it("a memory too long is a tool error naming the limit", async () => {
    const result = await call(client, "remember", { text: "x".repeat(5000) });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /at most \d+ characters/);
  });
});

describe("the front door at /mcp", () => {
  it("without the client key: 401; with it: works", async () => {
    await assert.rejects(connect({}), (err: { code?: number }) => err.code === 401);
    await assert.rejects(connect({ authorization: "Bearer wrong" }), (err: { code?: number }) => err.code === 401);
    const client = await connect({ "x-api-key": KEY });
    assert.ok((await client.listTools()).tools.length > 0);
    await client.close();
  });

  it("a foreign Origin is refused with 403 (DNS rebinding, other web pages)", async () => {
    await assert.rejects(
      connect({ authorization: `Bearer ${KEY}`, origin: "https://evil.example" }),
      (err: { code?: number }) => err.code === 403,
    );
    // A rebinding page's requests carry its own host name (fetch cannot set Host: node:http can).
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(`${tandem.url}/mcp`, {
        method: "POST",
        headers: {
          host: "attacker.example:1337",
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          authorization: `Bearer ${KEY}`,
        },
      });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on("error", reject);
      req.end(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }));
    });
    assert.equal(status, 403);
  });

  it("GET and DELETE are 405 (stateless: no server stream, no session)", async () => {
    for (const method of ["GET", "DELETE"]) {
      const res = await fetch(`${tandem.url}/mcp`, {
        method,
        headers: { authorization: `Bearer ${KEY}`, accept: "text/event-stream" },
      });
      assert.equal(res.status, 405, method);
      assert.equal(((await res.json()) as { jsonrpc: string }).jsonrpc, "2.0");
    }
  });
});

describe("batches at /mcp", () => {
  it("a batch past MAX_MCP_BATCH messages is refused (each could start a model call); a small one is answered", async () => {
    const post = (messages: unknown[]) =>
      fetch(`${tandem.url}/mcp`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${KEY}`,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "mcp-protocol-version": "2025-03-26",
        },
        body: JSON.stringify(messages),
      });
    const call = (id: number) => ({
      jsonrpc: "2.0",
      id,
      method: "tools/call",
      params: { name: "list_models", arguments: {} },
    });
    const refused = await post(Array.from({ length: MAX_MCP_BATCH + 1 }, (_, i) => call(i)));
    assert.equal(refused.status, 400);
    const body = (await refused.json()) as { error: { code: number; message: string } };
    assert.equal(body.error.code, -32600);
    assert.match(body.error.message, new RegExp(`at most ${MAX_MCP_BATCH} messages`));
    const small = await post([call(1), call(2)]);
    assert.equal(small.status, 200);
    const text = await small.text();
    assert.ok(text.includes('"id":1') && text.includes('"id":2'), text);
  });
});

describe("a client that leaves mid-call", () => {
  it("cancels the model's upstream request", { timeout: 60_000 }, async () => {
    // An upstream that never answers, and says when tandem hangs up on it.
    let arrived: (() => void) | undefined;
    let hungUp: (() => void) | undefined;
    const arrivedOnce = new Promise<void>((resolve) => (arrived = resolve));
    const hungUpOnce = new Promise<void>((resolve) => (hungUp = resolve));
    const slow = createServer((req) => {
      req.resume();
      arrived?.();
      req.socket.once("close", () => hungUp?.());
    });
    await new Promise<void>((resolve) => slow.listen(0, "127.0.0.1", resolve));
    const quiet = await startTandem({
      providers: {
        slow: {
          kind: "openai",
          baseUrl: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/v1`,
          models: ["stuck"],
          local: true,
        },
      },
      routes: { waiting: { tiers: ["slow/stuck"], timeouts: { firstTokenMs: 600_000, idleMs: 600_000, totalMs: 600_000 } } },
    });
    try {
      const controller = new AbortController();
      const call = fetch(`${quiet.url}/mcp`, {
        method: "POST",
        signal: controller.signal,
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "tools/call",
          params: { name: "ask_model", arguments: { model: "waiting", prompt: "Take your time" } },
        }),
      }).then((res) => res.text());
      await arrivedOnce;
      controller.abort();
      await assert.rejects(call);
      // Resolves only when tandem closes the upstream request: the call's work is cancelled, not left running.
      await hungUpOnce;
    } finally {
      await quiet.close();
      slow.closeAllConnections();
      await new Promise<void>((resolve) => slow.close(() => resolve()));
    }
  });
});
