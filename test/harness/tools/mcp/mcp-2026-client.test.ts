/**
 * McpToolHost against a server that speaks only MCP 2026-07-28 (test/support/mcp-2026-server.ts:
 * no initialize), against tandem's own dual-era /mcp, and the era probe's fallbacks. The SDK's
 * servers of the handshake revisions are mcp-tool-host.test.ts's.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { type McpConfig, mcpSchema } from "../../../../src/config/index.js";
import type { McpServerRef } from "../../../../src/core/index.js";
import { type McpLog, McpToolHost, type McpToolHostOptions } from "../../../../src/harness/tools/mcp/index.js";
import { paramHeaders, paramHeaderValues } from "../../../../src/harness/tools/mcp/mcp-param-headers.js";
import { startFakeOpenAI } from "../../../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../../../support/fake-upstream.js";
import { type Mcp2026Server, startMcp2026Server } from "../../../support/mcp-2026-server.js";
import { type McpHttpServer, startMcpHttpServer } from "../../../support/mcp-test-server.js";
import { type RunningTandem, startTandem } from "../../../support/tandem.js";

function recordingLog(): McpLog & { lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return {
    lines,
    debug: (fields, message) => lines.push({ level: "debug", message, ...fields }),
    warn: (fields, message) => lines.push({ level: "warn", message, ...fields }),
  };
}

const hosts: McpToolHost[] = [];
const closers: Array<() => Promise<void>> = [];
after(async () => {
  await Promise.all(hosts.map((h) => h.close()));
  await Promise.all(closers.map((close) => close()));
});

function makeHost(config: unknown = {}, options: Partial<McpToolHostOptions> = {}) {
  const log = recordingLog();
  const host = new McpToolHost(mcpSchema.parse(config) as McpConfig, { log, env: {}, ...options });
  hosts.push(host);
  return { host, log };
}

async function modernServer(options: Parameters<typeof startMcp2026Server>[0] = {}): Promise<Mcp2026Server> {
  const server = await startMcp2026Server(options);
  closers.push(() => server.close());
  return server;
}

const signal = () => new AbortController().signal;
const byUrl = (url: string, headers?: Record<string, string>): McpServerRef => ({ label: "modern", url, headers });
const methods = (server: Mcp2026Server) => server.requests.map((r) => r.body.method);

describe("McpToolHost, a server of MCP 2026-07-28 only", () => {
  it("probes with server/discover, then lists every page and calls tools without a handshake", async () => {
    const server = await modernServer({ extraTools: 12, pageSize: 5 });
    const { host } = makeHost();
    const listed = await host.listTools(byUrl(server.url), signal());
    assert.ok("tools" in listed, JSON.stringify(listed));
    assert.equal(listed.tools.length, 16);
    assert.ok(listed.tools.some((tool) => tool.name === "tool_11"));
    assert.deepEqual(await host.callTool(byUrl(server.url), "echo", { text: "hi" }, signal()), { output: "hi" });
    assert.deepEqual(methods(server), ["server/discover", "tools/list", "tools/list", "tools/list", "tools/list", "tools/call"]);
    assert.ok(!methods(server).includes("initialize"));
    for (const { headers, body } of server.requests) {
      const meta = (body.params as { _meta: Record<string, unknown> })._meta;
      assert.equal(meta["io.modelcontextprotocol/protocolVersion"], "2026-07-28");
      assert.deepEqual(meta["io.modelcontextprotocol/clientCapabilities"], {});
      assert.equal((meta["io.modelcontextprotocol/clientInfo"] as { name: string }).name, "tandem");
      assert.equal(headers["mcp-protocol-version"], "2026-07-28");
      assert.equal(headers["mcp-method"], body.method);
      assert.equal(headers["mcp-session-id"], undefined);
    }
    const call = server.requests.at(-1);
    assert.equal(call?.headers["mcp-name"], "echo");
    // The list is fresh for its ttlMs: a second listing sends nothing.
    const before = server.requests.length;
    await host.listTools(byUrl(server.url), signal());
    assert.equal(server.requests.length, before);
  });

  it("reads an answer sent as an event stream (a notification first), and a tool's error", async () => {
    const server = await modernServer({ sse: true });
    const { host } = makeHost();
    assert.deepEqual(await host.callTool(byUrl(server.url), "echo", { text: "streamed" }, signal()), { output: "streamed" });
    assert.deepEqual(await host.callTool(byUrl(server.url), "fail", {}, signal()), {
      error: "it broke",
      failure: { kind: "tool", content: [{ type: "text", text: "it broke" }] },
    });
  });

  it("lists the tools again once their ttlMs has passed", async () => {
    const server = await modernServer({ ttlMs: 0 });
    const { host } = makeHost();
    await host.listTools(byUrl(server.url), signal());
    await host.listTools(byUrl(server.url), signal());
    assert.equal(methods(server).filter((m) => m === "tools/list").length, 2);
  });

  it("mirrors an x-mcp-header argument into its Mcp-Param header, and sends a Base64 Mcp-Name for a name unsafe in a header", async () => {
    const server = await modernServer();
    const { host } = makeHost();
    assert.deepEqual(await host.callTool(byUrl(server.url), "region", { region: "us-west1", query: "q" }, signal()), {
      output: "ran in us-west1",
    });
    assert.equal(server.requests.at(-1)?.headers["mcp-param-region"], "us-west1");
    await host.callTool(byUrl(server.url), "naïve tool", {}, signal());
    assert.equal(server.requests.at(-1)?.headers["mcp-name"], `=?base64?${Buffer.from("naïve tool").toString("base64")}?=`);
  });

  it("cancels a call in the server by closing its POST, and times one out", async () => {
    const server = await modernServer();
    const { host } = makeHost({ callTimeoutMs: 300 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await assert.rejects(host.callTool(byUrl(server.url), "slow", { ms: 5000 }, controller.signal), { name: "AbortError" });
    const timedOut = await host.callTool(byUrl(server.url), "slow", { ms: 5000 }, signal());
    assert.match(String("error" in timedOut ? timedOut.error : ""), /timed out after 300 ms \(mcp.callTimeoutMs\)/);
    for (let i = 0; i < 50 && server.cancelled() < 2; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(server.cancelled(), 2);
  });

  it("stops reading an answer past maxAnswerBytes, saying so, and goes on serving the calls after it", async () => {
    const server = await modernServer({ extraTools: 200 });
    const { host } = makeHost({}, { maxAnswerBytes: 4000 });
    const listed = await host.listTools(byUrl(server.url), signal());
    assert.match("error" in listed ? listed.error : "", /larger than 4000 bytes \(limits.maxAnswerBytes\)/);
    assert.deepEqual(await host.callTool(byUrl(server.url), "echo", { text: "small" }, signal()), { output: "small" });
    const again = await host.callTool(byUrl(server.url), "echo", { text: "x".repeat(5000) }, signal());
    assert.match(String("error" in again ? again.error : ""), /larger than 4000 bytes/);
    assert.deepEqual(await host.callTool(byUrl(server.url), "echo", { text: "small again" }, signal()), {
      output: "small again",
    });
  });

  it("reports a refused key without falling back, and a server that speaks no version tandem does", async () => {
    const keyed = await modernServer({ bearer: "right" });
    const { host } = makeHost();
    const refused = await host.listTools(byUrl(keyed.url, { authorization: "Bearer wrong" }), signal());
    assert.match("error" in refused ? refused.error : "", /HTTP 401/);
    assert.ok(!("error" in refused) || !refused.error.includes("wrong"));
    const future = await modernServer({ supportedVersions: ["2099-01-01"] });
    const none = await host.listTools(byUrl(future.url), signal());
    assert.match("error" in none ? none.error : "", /speaks MCP 2099-01-01, none of which tandem speaks/);
    assert.deepEqual(methods(future), ["server/discover"]);
  });

  it("turns to the handshake when the version error lists a handshake version", async () => {
    const server = await modernServer({ supportedVersions: ["2025-11-25"] });
    const { host } = makeHost();
    const listed = await host.listTools(byUrl(server.url), signal());
    // This fake has no handshake: its 404 for initialize (and 405 for the legacy SSE GET) fail the connect.
    assert.match("error" in listed ? listed.error : "", /cannot connect to MCP server 'modern'/);
    assert.deepEqual(methods(server), ["server/discover", "initialize"]);
  });
});

describe("McpToolHost, the probe's fallback to the handshake", () => {
  it("falls back to initialize with an SDK server of the handshake revisions, stateful or stateless", async () => {
    for (const stateless of [false, true]) {
      const server: McpHttpServer = await startMcpHttpServer({ stateless });
      closers.push(() => server.close());
      const { host } = makeHost();
      assert.deepEqual(await host.callTool(byUrl(server.url), "echo", { text: "old" }, signal()), { output: "old" });
      assert.equal(server.requests[0]?.["mcp-method"], "server/discover", `stateless: ${stateless}`);
      assert.equal(server.requests[1]?.["mcp-protocol-version"], undefined, "initialize carries no version header");
    }
  });
});

describe("McpToolHost against tandem's own /mcp (dual-era)", () => {
  let upstream: FakeUpstream;
  let tandem: RunningTandem;

  it("speaks 2026-07-28 to it: discover, list, call", async () => {
    upstream = await startFakeOpenAI({ models: ["tiny"] });
    closers.push(() => upstream.close());
    tandem = await startTandem(
      {
        providers: { local: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:UP_KEY"], local: true } },
        routes: { here: { tiers: ["local/tiny"] } },
      },
      { env: { UP_KEY: "sk-up" } },
    );
    closers.push(() => tandem.close());
    const { host, log } = makeHost();
    const ref = byUrl(`${tandem.url}/mcp`);
    const listed = await host.listTools(ref, signal());
    assert.ok("tools" in listed, JSON.stringify(listed));
    assert.ok(listed.tools.some((tool) => tool.name === "list_models"));
    const models = await host.callTool(ref, "list_models", {}, signal());
    assert.match(String("output" in models ? models.output : ""), /local\/tiny/);
    assert.ok(log.lines.some((line) => line.message === "mcp: connected" && line.protocol === "2026-07-28"));
  });
});

describe("x-mcp-header marks", () => {
  it("finds the marks on a chain of properties and encodes their values", () => {
    const marks = paramHeaders({
      type: "object",
      properties: {
        region: { type: "string", "x-mcp-header": "Region" },
        nested: { type: "object", properties: { id: { type: "integer", "x-mcp-header": "Id" } } },
        flag: { type: "boolean", "x-mcp-header": "Flag" },
      },
    });
    assert.ok(Array.isArray(marks));
    assert.deepEqual(paramHeaderValues(marks, { region: "Hello, 世界", nested: { id: 42 }, flag: false }), {
      "mcp-param-Region": "=?base64?SGVsbG8sIOS4lueVjA==?=",
      "mcp-param-Id": "42",
      "mcp-param-Flag": "false",
    });
    assert.deepEqual(paramHeaderValues(marks, { region: null }), {});
  });

  it("finds a tool invalid for a mark that breaks the rules", () => {
    const invalid = (schema: unknown) => !Array.isArray(paramHeaders(schema));
    const prop = (p: Record<string, unknown>) => ({ type: "object", properties: { a: p } });
    assert.ok(invalid(prop({ type: "string", "x-mcp-header": "" })));
    assert.ok(invalid(prop({ type: "string", "x-mcp-header": "Bad Name" })));
    assert.ok(invalid(prop({ type: "number", "x-mcp-header": "Num" })));
    assert.ok(invalid(prop({ type: "array", items: { type: "string", "x-mcp-header": "Item" } })));
    assert.ok(invalid({ type: "object", anyOf: [prop({ type: "string", "x-mcp-header": "A" })] }));
    assert.ok(
      invalid({
        type: "object",
        properties: { a: { type: "string", "x-mcp-header": "Same" }, b: { type: "string", "x-mcp-header": "same" } },
      }),
    );
    // A property named x-mcp-header is a property, not a mark.
    assert.deepEqual(paramHeaders({ type: "object", properties: { "x-mcp-header": { type: "string" } } }), []);
  });
});
