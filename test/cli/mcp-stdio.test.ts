/**
 * `tandem mcp`, the stdio MCP server Claude Desktop, Cursor and Codex start as a command: the real
 * `tandem` command driven by the MCP SDK's StdioClientTransport, relaying to a running tandem's
 * /mcp (its key from TANDEM_API_KEY); a wrong key or no server is a JSON-RPC error that says why.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { after, before, describe, it } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { type CallToolResult, McpError } from "@modelcontextprotocol/sdk/types.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream, RecordedRequest } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";
import { TANDEM_CLI } from "../support/tandem-cli.js";

const KEY = "stdio-client-key-0123456789";

let upstream: FakeUpstream;
let tandem: RunningTandem;

before(async () => {
  upstream = await startFakeOpenAI({ models: ["tiny"] });
  upstream.script(() => ({ kind: "text", text: "Hello over stdio" }));
  tandem = await startTandem(
    { providers: { local: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:UP_KEY"], local: true } } },
    { env: { UP_KEY: "sk-up" }, clientKeys: [KEY] },
  );
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

/** Starts `tandem mcp` as a client would, with this environment, and connects the SDK's client to it. */
async function startStdio(env: Record<string, string>): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [TANDEM_CLI, "mcp"],
    env,
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const client = new Client({ name: "stdio-test", version: "1.0.0" });
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

const textOf = (result: CallToolResult): string =>
  result.content.map((part) => (part.type === "text" ? part.text : "")).join("\n");

describe("tandem mcp (stdio)", () => {
  it("relays the running server's tools: list_models and ask_model reach the upstream", async () => {
    const { client } = await startStdio({ TANDEM_URL: tandem.url, TANDEM_API_KEY: KEY });
    try {
      assert.equal(client.getServerVersion()?.name, "tandem");
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === "ask_model"));
      const models = (await client.callTool({ name: "list_models", arguments: {} })) as CallToolResult;
      assert.match(textOf(models), /local\/tiny \(target, local\)/);
      const before = upstream.requests.length;
      const answer = (await client.callTool({
        name: "ask_model",
        arguments: { model: "local/tiny", prompt: "Say hello through the pipe" },
      })) as CallToolResult;
      assert.notEqual(answer.isError, true, textOf(answer));
      assert.equal((answer.structuredContent as { answer: string }).answer, "Hello over stdio");
      assert.equal((answer.structuredContent as { target: string }).target, "local/tiny");
      const sent: RecordedRequest | undefined = upstream.requests.slice(before).find((r) => r.path.endsWith("/chat/completions"));
      assert.match(JSON.stringify(sent?.body), /Say hello through the pipe/);
      // A bad call is still a tool error, through the relay.
      const bad = (await client.callTool({
        name: "ask_model",
        arguments: { model: "nope/none", prompt: "hi" },
      })) as CallToolResult;
      assert.equal(bad.isError, true);
    } finally {
      await client.close();
    }
  });

  it("a wrong key is an error that says to set TANDEM_API_KEY, never the key", async () => {
    await assert.rejects(
      startStdio({ TANDEM_URL: tandem.url, TANDEM_API_KEY: "not-the-key" }),
      (err: Error) => /refused the client key: set TANDEM_API_KEY/.test(err.message) && !err.message.includes("not-the-key"),
    );
  });

  it("no server is an error that says tandem cannot be reached", async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
      });
    });
    await assert.rejects(startStdio({ TANDEM_URL: `http://127.0.0.1:${port}` }), (err: Error) =>
      /cannot reach tandem at http:\/\/127\.0\.0\.1:\d+\/mcp/.test(err.message),
    );
  });

  it("piped: answers every request sent before stdin ended, then exits 0", async () => {
    const child = spawn(process.execPath, [TANDEM_CLI, "mcp"], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TANDEM_URL: tandem.url, TANDEM_API_KEY: KEY },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    const initialize = {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "pipe", version: "1" } },
    };
    // All at once, stdin closed right after: nothing may be lost to the end of input.
    child.stdin.end(`${JSON.stringify(initialize)}\n${JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" })}\n`);
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    assert.equal(code, 0);
    const answers = out
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { id: number; result?: { tools?: unknown[] } });
    assert.deepEqual(answers.map((a) => a.id).sort(), [1, 2]);
    assert.ok((answers.find((a) => a.id === 2)?.result?.tools?.length ?? 0) >= 2);
  });

  it("piped, MCP 2026-07-28 (no initialize): server/discover and a tool call are relayed with that revision's headers", async () => {
    const child = spawn(process.execPath, [TANDEM_CLI, "mcp"], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TANDEM_URL: tandem.url, TANDEM_API_KEY: KEY },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    const _meta = {
      "io.modelcontextprotocol/protocolVersion": "2026-07-28",
      "io.modelcontextprotocol/clientInfo": { name: "pipe", version: "1" },
      "io.modelcontextprotocol/clientCapabilities": {},
    };
    const discover = { jsonrpc: "2.0", id: 1, method: "server/discover", params: { _meta } };
    const call = { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "list_models", arguments: {}, _meta } };
    child.stdin.end(`${JSON.stringify(discover)}\n${JSON.stringify(call)}\n`);
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    assert.equal(code, 0);
    const answers = out
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { id: number; result?: Record<string, unknown>; error?: unknown });
    const discovered = answers.find((a) => a.id === 1);
    assert.ok(
      (discovered?.result?.supportedVersions as string[] | undefined)?.includes("2026-07-28"),
      JSON.stringify(discovered),
    );
    const listed = answers.find((a) => a.id === 2);
    assert.equal(listed?.result?.resultType, "complete", JSON.stringify(listed));
    assert.match(JSON.stringify(listed?.result?.content), /local\/tiny/);
  });

  it("tandem stopping mid-call: the call is answered with an error that says so, not left to the client's timeout", async () => {
    // An upstream that lists its model and never answers a chat: the call is in flight when tandem stops.
    let reached: () => void = () => {};
    const asked = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const stalled = createHttpServer((req, res) => {
      if (req.method === "POST") reached();
      if (req.method === "GET") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ object: "list", data: [{ id: "tiny", object: "model" }] }));
      }
    });
    await new Promise<void>((resolve) => stalled.listen(0, "127.0.0.1", resolve));
    const address = stalled.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const stopping = await startTandem({
      providers: { local: { kind: "openai", baseUrl: `http://127.0.0.1:${port}/v1`, local: true } },
      routes: { slow: { tiers: ["local/tiny"], timeouts: { firstTokenMs: 60_000, idleMs: 60_000 } } },
    });
    const { client } = await startStdio({ TANDEM_URL: stopping.url, PATH: process.env.PATH ?? "" });
    try {
      await client.listTools();
      const call = client.callTool({ name: "ask_model", arguments: { model: "slow", prompt: "hi" } }, undefined, {
        // Far longer than the relay needs: a timeout here is the bug (the call was never answered).
        timeout: 30_000,
      });
      const outcome = call.then(
        () => undefined,
        (err: unknown) => err,
      );
      // Once the call has reached the upstream, tandem is stopped under it.
      await asked;
      // tandem first (it drops its connections at once): were the upstream dropped first, the call
      // could fail over to a tool error before tandem stops.
      const closing = stopping.close();
      const err = await outcome;
      stalled.closeAllConnections();
      await closing;
      assert.ok(err instanceof McpError, String(err));
      assert.match(err.message, /closed the connection before answering/);
    } finally {
      await client.close();
      stalled.close();
    }
  });

  it("a call the client cancels is cancelled in tandem, upstream work with it", async () => {
    // An upstream that lists its model, never answers a chat, and says when tandem hangs up on it.
    let reached: () => void = () => {};
    const asked = new Promise<void>((resolve) => {
      reached = resolve;
    });
    let hungUp: () => void = () => {};
    const dropped = new Promise<void>((resolve) => {
      hungUp = resolve;
    });
    const stalled = createHttpServer((req, res) => {
      if (req.method === "POST") {
        reached();
        res.once("close", hungUp);
      }
      if (req.method === "GET") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ object: "list", data: [{ id: "tiny", object: "model" }] }));
      }
    });
    await new Promise<void>((resolve) => stalled.listen(0, "127.0.0.1", resolve));
    const address = stalled.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const waiting = await startTandem({
      providers: { local: { kind: "openai", baseUrl: `http://127.0.0.1:${port}/v1`, local: true } },
      routes: { slow: { tiers: ["local/tiny"], timeouts: { firstTokenMs: 60_000, idleMs: 60_000 } } },
    });
    const { client } = await startStdio({ TANDEM_URL: waiting.url, PATH: process.env.PATH ?? "" });
    try {
      const caller = new AbortController();
      const call = client
        .callTool({ name: "ask_model", arguments: { model: "slow", prompt: "hi" } }, undefined, { signal: caller.signal })
        .catch(() => undefined);
      await asked;
      // The SDK's client sends notifications/cancelled; the relay ends the call's exchange with tandem after it.
      caller.abort();
      await call;
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        dropped.then(() => "cancelled"),
        new Promise((resolve) => {
          timer = setTimeout(() => resolve("still running"), 10_000);
        }),
      ]);
      clearTimeout(timer);
      assert.equal(outcome, "cancelled");
    } finally {
      await client.close();
      stalled.closeAllConnections();
      await waiting.close();
      stalled.close();
    }
  });
});
