/**
 * McpToolHost against real MCP servers built with the SDK: Streamable HTTP and legacy SSE on
 * 127.0.0.1 (test/support/mcp-test-server.ts) and a stdio child (test/support/mcp-stdio-server.ts).
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";
import { type McpConfig, mcpSchema } from "../../../../src/config/index.js";
import type { McpServerRef } from "../../../../src/core/index.js";
import { type McpLog, McpToolHost, type McpToolHostOptions } from "../../../../src/harness/tools/mcp/index.js";
import {
  IMAGE_BYTES,
  MCP_RAW_STDIO_SERVER,
  MCP_STDIO_SERVER,
  type McpHttpServer,
  startMcpHttpServer,
} from "../../../support/mcp-test-server.js";

const STDIO = MCP_STDIO_SERVER;

/** A log that keeps every line, to check what was logged (and that no secret was). */
function recordingLog(): McpLog & { lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return {
    lines,
    debug: (fields, message) => lines.push({ level: "debug", message, ...fields }),
    warn: (fields, message) => lines.push({ level: "warn", message, ...fields }),
  };
}

/** What a call is told of a stdio server ended for a line past the MCP SDK's limit. */
const LINE_TOO_LONG = "the server wrote a line over the 10 MiB limit (10485760 bytes) of a stdio message, so it was ended";

const hosts: McpToolHost[] = [];
const servers: McpHttpServer[] = [];
after(async () => {
  await Promise.all(hosts.map((h) => h.close()));
  await Promise.all(servers.map((s) => s.close()));
});

function makeHost(config: unknown = {}, options: Partial<McpToolHostOptions> = {}) {
  const log = recordingLog();
  const host = new McpToolHost(mcpSchema.parse(config) as McpConfig, { log, env: {}, ...options });
  hosts.push(host);
  return { host, log };
}

async function httpServer(options: Parameters<typeof startMcpHttpServer>[0] = {}): Promise<McpHttpServer> {
  const server = await startMcpHttpServer(options);
  servers.push(server);
  return server;
}

const signal = () => new AbortController().signal;
const byUrl = (server: McpHttpServer, headers?: Record<string, string>): McpServerRef => ({
  label: "remote",
  url: server.url,
  headers,
});

async function call(host: McpToolHost, ref: McpServerRef, name: string, args: Record<string, unknown> = {}) {
  return host.callTool(ref, name, args, signal());
}

describe("McpToolHost over Streamable HTTP", () => {
  it("lists every page of tools with their annotations, on one connect shared by concurrent requests", async () => {
    const server = await httpServer({ extraTools: 25, pageSize: 7 });
    const { host } = makeHost();
    const [a, b] = await Promise.all([host.listTools(byUrl(server), signal()), host.listTools(byUrl(server), signal())]);
    assert.ok("tools" in a && "tools" in b, JSON.stringify(a));
    assert.equal(a.tools.length, 35);
    assert.deepEqual(a.tools.map((t) => t.name).slice(0, 3), ["echo", "fail", "structured"]);
    assert.ok(a.tools.some((t) => t.name === "tool_24"));
    const echo = a.tools.find((t) => t.name === "echo");
    assert.equal(echo?.description, "Says the text back");
    assert.equal((echo?.inputSchema.properties as Record<string, unknown>).text !== undefined, true);
    assert.deepEqual(a.tools.find((t) => t.name === "image")?.annotations, { readOnlyHint: true });
    assert.equal(server.sessionsStarted(), 1);
    // Cached on the connection: a second list sends no tools/list (no new HTTP request).
    const before = server.requests.length;
    await host.listTools(byUrl(server), signal());
    assert.equal(server.requests.length, before);
  });

  it("lists the tools of a server whose listing has malformed ones: the callable kept, the rest left out and logged", async () => {
    const server = await httpServer({
      rawTools: [
        { name: "no_schema", description: "No inputSchema at all" },
        { name: "string_schema", inputSchema: { type: "string" } },
        { name: "untyped", inputSchema: { properties: { a: { type: "string" } } } },
        { description: "no name" },
        "not a tool",
      ],
    });
    const { host, log } = makeHost();
    const listed = await host.listTools(byUrl(server), signal());
    assert.ok("tools" in listed, JSON.stringify(listed));
    const names = listed.tools.map((tool) => tool.name);
    assert.ok(names.includes("echo"));
    assert.ok(names.includes("no_schema") && names.includes("string_schema") && names.includes("untyped"));
    for (const tool of listed.tools) assert.equal(tool.inputSchema.type, "object", tool.name);
    const untyped = listed.tools.find((tool) => tool.name === "untyped");
    assert.deepEqual(untyped?.inputSchema.properties, { a: { type: "string" } });
    assert.equal(listed.tools.filter((tool) => !tool.name).length, 0);
    assert.ok(log.lines.some((line) => line.level === "warn" && /left out/.test(String(line.message))));
    // The tools still run.
    assert.equal((await call(host, byUrl(server), "echo", { text: "still here" })).output, "still here");
  });

  it("turns tool results into text: text, isError, structuredContent, images and resources", async () => {
    const server = await httpServer();
    const { host } = makeHost();
    const ref = byUrl(server);
    assert.deepEqual(await call(host, ref, "echo", { text: "hello" }), { output: "hello" });
    assert.deepEqual(await call(host, ref, "fail"), {
      error: "it broke",
      failure: { kind: "tool", content: [{ type: "text", text: "it broke" }] },
    });
    assert.deepEqual(await call(host, ref, "structured"), { output: '{"temperature":21.5,"unit":"C"}' });
    assert.deepEqual(await call(host, ref, "image"), {
      output: `a chart\n[image image/png, ${IMAGE_BYTES} bytes]\nfile:///tmp/chart.png\nthe notes`,
    });
    const unknown = await call(host, ref, "no_such_tool");
    assert.ok(unknown.error !== undefined && /no_such_tool/.test(unknown.error), JSON.stringify(unknown));
    const badArgs = await call(host, ref, "echo", { text: 42 });
    assert.ok(badArgs.error !== undefined, JSON.stringify(badArgs));
    assert.equal(server.sessionsStarted(), 1);
  });

  it("says which kind of failure each was (mcp_call.error): the tool's, the server's JSON-RPC error, HTTP, timeout, a lost link", async () => {
    const server = await httpServer({ bearer: "right-token-abcdef-0002", failingCalls: true });
    const { host } = makeHost({ callTimeoutMs: 300 });
    const ref = byUrl(server, { Authorization: "Bearer right-token-abcdef-0002" });
    assert.deepEqual((await call(host, ref, "fail")).failure, { kind: "tool", content: [{ type: "text", text: "it broke" }] });
    const slow = await call(host, ref, "slow", { ms: 5000 });
    assert.deepEqual(slow.failure, { kind: "protocol", code: -32001, message: slow.error });
    const unknown = await call(host, ref, "no_such_tool");
    // The SDK's server answers an unknown tool with a tool result that says isError, or JSON-RPC -32602.
    assert.ok(
      unknown.failure?.kind === "tool" || (unknown.failure?.kind === "protocol" && unknown.failure.code === -32602),
      JSON.stringify(unknown),
    );
    const rpc = await call(host, ref, "rpc_error");
    assert.deepEqual(rpc.failure, { kind: "protocol", code: -32050, message: rpc.error });
    assert.match(rpc.error ?? "", /the index is offline/);
    const http = await call(host, ref, "http_error");
    assert.deepEqual(http.failure, { kind: "http", status: 503, message: http.error });
    const refused = await call(host, byUrl(server, { Authorization: "Bearer wrong-token-0000" }), "echo", { text: "x" });
    assert.deepEqual(refused.failure, { kind: "http", status: 401, message: refused.error });
    await server.close();
    const down = await call(host, byUrl(server), "echo", { text: "x" });
    assert.deepEqual(down.failure, { kind: "protocol", code: -32000, message: down.error });
    const notConfigured = await call(host, { label: "nowhere" }, "echo");
    assert.deepEqual(notConfigured.failure, { kind: "protocol", code: -32010, message: notConfigured.error });
  });

  it("cuts output beyond maxOutputBytes on a character boundary and says how much was cut", async () => {
    const server = await httpServer();
    const { host } = makeHost({ maxOutputBytes: 101 });
    const result = await call(host, byUrl(server), "big", { chars: 150, char: "é" });
    assert.ok(result.output !== undefined);
    const [kept, note] = result.output.split("\n");
    assert.equal(kept, "é".repeat(50));
    assert.equal(note, "[output cut: 200 of 300 bytes left out (mcp.maxOutputBytes)]");
    assert.deepEqual(await call(host, byUrl(server), "big", { chars: 101, char: "a" }), { output: "a".repeat(101) });
  });

  it("returns an error, never throws, for a server that is down", async () => {
    const server = await httpServer();
    await server.close();
    const { host } = makeHost();
    const listed = await host.listTools(byUrl(server), signal());
    assert.ok("error" in listed);
    assert.match(listed.error, /cannot connect to MCP server 'remote': connection refused/);
    const called = await call(host, byUrl(server), "echo", { text: "x" });
    assert.match(called.error ?? "", /connection refused/);
  });

  it("returns a 401 as an error that never shows the secret header, from the config's env reference or the request", async () => {
    const server = await httpServer({ bearer: "right-token-abcdef-0001" });
    const secret = "wrong-secret-zyxwvu-9876";
    const { host, log } = makeHost(
      {
        servers: {
          good: { url: server.url, headers: { Authorization: `Bearer \${env:GOOD_TOKEN}`, "X-Client": "tandem-test" } },
          bad: { url: server.url, headers: { Authorization: "env:BAD_AUTH" } },
          unset: { url: server.url, headers: { Authorization: `Bearer \${env:NOT_SET}` } },
        },
      },
      { env: { GOOD_TOKEN: "right-token-abcdef-0001", BAD_AUTH: `Bearer ${secret}` } },
    );
    const good = await host.listTools({ label: "good" }, signal());
    assert.ok("tools" in good, JSON.stringify(good));
    assert.equal(server.requests.at(-1)?.["x-client"], "tandem-test");

    const bad = await host.listTools({ label: "bad" }, signal());
    assert.ok("error" in bad);
    assert.match(bad.error, /HTTP 401/);
    assert.ok(!bad.error.includes(secret));
    const literal = "literal-request-secret-5555";
    const fromRequest = await host.callTool(
      byUrl(server, { Authorization: `Bearer ${literal}` }),
      "echo",
      { text: "x" },
      signal(),
    );
    assert.match(fromRequest.error ?? "", /HTTP 401/);
    assert.ok(!(fromRequest.error ?? "").includes(literal));

    const unset = await host.listTools({ label: "unset" }, signal());
    assert.ok("error" in unset);
    assert.match(unset.error, /header Authorization: env:NOT_SET is not set/);

    const logged = JSON.stringify(log.lines);
    assert.ok(!logged.includes(secret) && !logged.includes(literal) && !logged.includes("right-token-abcdef-0001"));
  });

  it("never shows a request's bearer token, even one a hostile server quotes without its scheme", async () => {
    const echo = createServer((req, res) => {
      const auth = String(req.headers.authorization);
      res.writeHead(500, { "content-type": "text/plain" }).end(`denied: ${auth}; token ${auth.replace(/^Bearer /, "")}`);
    });
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", () => resolve()));
    try {
      const url = `http://127.0.0.1:${(echo.address() as AddressInfo).port}/mcp`;
      const token = "tok-quoted-secret-31337";
      // A configured server's header written literally in the config is as secret as a request's.
      const literal = "glpat-LITERALSECRET1234";
      const { host, log } = makeHost({
        servers: { gitlab: { url, headers: { Authorization: `Bearer ${literal}`, "Private-Token": literal } } },
      });
      const listed = await host.listTools({ label: "hostile", url, headers: { Authorization: `Bearer ${token}` } }, signal());
      assert.ok("error" in listed);
      assert.match(listed.error, /HTTP 500/);
      assert.ok(!listed.error.includes(token), listed.error);
      const configured = await host.listTools({ label: "gitlab" }, signal());
      assert.ok("error" in configured);
      assert.match(configured.error, /HTTP 500/);
      assert.ok(!configured.error.includes(literal), configured.error);
      assert.ok(!JSON.stringify(host.status()).includes(literal));
      assert.ok(!JSON.stringify(log.lines).includes(token));
      assert.ok(!JSON.stringify(log.lines).includes(literal));
    } finally {
      echo.closeAllConnections();
      await new Promise((resolve) => echo.close(resolve));
    }
  });

  it("fails a call that outlives callTimeoutMs with an error, and the connection still serves", async () => {
    const server = await httpServer();
    const { host } = makeHost({ callTimeoutMs: 300 });
    const started = Date.now();
    const slow = await call(host, byUrl(server), "slow", { ms: 5000 });
    assert.match(slow.error ?? "", /tool 'slow' of MCP server 'remote' timed out after 300 ms \(mcp\.callTimeoutMs\)/);
    assert.ok(Date.now() - started < 3000);
    assert.deepEqual(await call(host, byUrl(server), "echo", { text: "still here" }), { output: "still here" });
    assert.equal(server.sessionsStarted(), 1);
  });

  it("fails a call at once when the server ends its event stream without the answer and without an id to resume from", async () => {
    const server = await httpServer({ stateless: true });
    const { host } = makeHost({ callTimeoutMs: 30_000 });
    assert.deepEqual(await call(host, byUrl(server), "echo", { text: "up" }), { output: "up" });
    const started = Date.now();
    setTimeout(() => void server.endStreams(), 200);
    const lost = await call(host, byUrl(server), "slow", { ms: 20_000 });
    assert.match(
      lost.error ?? "",
      /tool 'slow' of MCP server 'remote' failed: .*ended its answer's event stream without the response/,
    );
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    assert.deepEqual(await call(host, byUrl(server), "echo", { text: "still here" }), { output: "still here" });
  });

  it("leaves a stream the server closed after an event id to the SDK, which resumes it and gets the answer", async () => {
    const server = await httpServer({ resumable: true });
    const { host } = makeHost({ callTimeoutMs: 10_000 });
    assert.deepEqual(await call(host, byUrl(server), "hangup", { ms: 300 }), { output: "answered after a hang-up" });
    const resumed = server.requests.filter((headers) => headers["last-event-id"] !== undefined);
    assert.ok(resumed.length > 0, "the client resumed with Last-Event-ID");
  });

  it("ends the HTTP exchange of a call it gave up on (timeout, caller gone): no connection is held for it", async () => {
    const server = await httpServer();
    const { host } = makeHost({ callTimeoutMs: 150 });
    assert.deepEqual(await call(host, byUrl(server), "echo", { text: "up" }), { output: "up" });
    const before = await server.openConnections();
    for (let i = 0; i < 6; i++) {
      const slow = await call(host, byUrl(server), "slow", { ms: 60_000 });
      assert.match(slow.error ?? "", /timed out/);
    }
    const caller = new AbortController();
    setTimeout(() => caller.abort(), 100);
    await assert.rejects(host.callTool(byUrl(server), "slow", { ms: 60_000 }, caller.signal), { name: "AbortError" });
    // The server dropped the cancelled calls' answers; their streams would stay open till the session ends.
    let open = Number.POSITIVE_INFINITY;
    // Up to 5 s: on a loaded machine the sockets' ends take a while to be seen (it failed at 1 s).
    for (let i = 0; i < 250 && open > before + 1; i++) {
      await new Promise((r) => setTimeout(r, 20));
      open = await server.openConnections();
    }
    assert.ok(open <= before + 1, `${open} connections open, ${before} before the calls`);
    assert.deepEqual(await call(host, byUrl(server), "echo", { text: "still here" }), { output: "still here" });
    assert.equal(server.sessionsStarted(), 1);
  });

  it("sends the session id and the negotiated protocol version on every request after initialize", async () => {
    const server = await httpServer();
    const { host } = makeHost();
    assert.deepEqual(await call(host, byUrl(server), "echo", { text: "one" }), { output: "one" });
    assert.ok("tools" in (await host.listTools(byUrl(server), signal())));
    // First the 2026-07-28 probe, which this server (of the handshake revisions) refuses; then initialize.
    const [probe, initialize, ...rest] = server.requests;
    assert.equal(probe?.["mcp-method"], "server/discover");
    assert.equal(probe?.["mcp-protocol-version"], "2026-07-28");
    assert.equal(initialize?.["mcp-session-id"], undefined);
    assert.equal(initialize?.["mcp-protocol-version"], undefined);
    assert.ok(rest.length >= 3, "notifications/initialized, the call, the listing");
    const session = rest[0]?.["mcp-session-id"];
    assert.ok(typeof session === "string" && session.length > 0);
    for (const headers of rest) {
      assert.equal(headers["mcp-session-id"], session);
      assert.equal(headers["mcp-protocol-version"], LATEST_PROTOCOL_VERSION);
    }
  });

  it("throws the caller's abort, before or during a call", async () => {
    const server = await httpServer();
    const { host } = makeHost();
    const aborted = new AbortController();
    aborted.abort(new Error("client left"));
    await assert.rejects(host.listTools(byUrl(server), aborted.signal), /client left/);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await assert.rejects(host.callTool(byUrl(server), "slow", { ms: 5000 }, controller.signal), { name: "AbortError" });
    assert.deepEqual(await call(host, byUrl(server), "echo", { text: "after" }), { output: "after" });
  });

  it("reconnects after the server restarts (its session forgotten)", async () => {
    const first = await httpServer();
    const { host } = makeHost();
    assert.deepEqual(await call(host, byUrl(first), "echo", { text: "one" }), { output: "one" });
    await first.close();
    await new Promise((r) => setTimeout(r, 100));
    const second = await httpServer({ port: first.port });
    assert.deepEqual(await call(host, byUrl(second), "echo", { text: "two" }), { output: "two" });
    const listed = await host.listTools(byUrl(second), signal());
    assert.ok("tools" in listed);
    assert.equal(second.sessionsStarted(), 1);
  });

  it("starts a new session when the server answers 404 for the old one, and runs the call there", async () => {
    const server = await httpServer();
    const { host } = makeHost();
    assert.deepEqual(await call(host, byUrl(server), "echo", { text: "one" }), { output: "one" });
    server.forgetSessions();
    assert.deepEqual(await call(host, byUrl(server), "echo", { text: "two" }), { output: "two" });
    assert.equal(server.sessionsStarted(), 2);
  });

  it("refreshes its tools when the server sends tools/list_changed", async () => {
    const server = await httpServer();
    const { host } = makeHost();
    const before = await host.listTools(byUrl(server), signal());
    assert.ok("tools" in before && !before.tools.some((t) => t.name === "late"));
    server.servers[0]?.registerTool("late", { description: "Added later" }, () => ({
      content: [{ type: "text", text: "late" }],
    }));
    let names: string[] = [];
    for (let i = 0; i < 50 && !names.includes("late"); i++) {
      await new Promise((r) => setTimeout(r, 20));
      const listed = await host.listTools(byUrl(server), signal());
      names = "tools" in listed ? listed.tools.map((t) => t.name) : [];
    }
    assert.ok(names.includes("late"));
  });

  it("closes a request-named server's connection when idle, ending its session", async () => {
    const server = await httpServer();
    const { host } = makeHost({}, { requestServerIdleMs: 100 });
    await host.listTools(byUrl(server), signal());
    assert.equal(host.openConnections, 1);
    for (let i = 0; i < 50 && (host.openConnections > 0 || server.sessionsOpen() > 0); i++)
      await new Promise((r) => setTimeout(r, 20));
    assert.equal(host.openConnections, 0);
    assert.equal(server.sessionsOpen(), 0);
    assert.deepEqual(await call(host, byUrl(server), "echo", { text: "again" }), { output: "again" });
  });
});

describe("McpToolHost, legacy SSE servers", () => {
  it("falls back to the legacy SSE transport when Streamable HTTP is refused", async () => {
    const server = await httpServer({ legacySse: true });
    const { host } = makeHost({ servers: { old: { url: server.url } } });
    const listed = await host.listTools({ label: "old" }, signal());
    assert.ok("tools" in listed, JSON.stringify(listed));
    assert.ok(listed.tools.some((t) => t.name === "echo"));
    assert.deepEqual(await host.callTool({ label: "old" }, "echo", { text: "sse" }, signal()), { output: "sse" });
  });
});

describe("McpToolHost, which servers a request may use", () => {
  it("knows its configured labels and refuses an unknown one", async () => {
    const { host } = makeHost({ servers: { files: { command: "true" } } });
    assert.equal(host.configured("files"), true);
    assert.equal(host.configured("toString"), false);
    const listed = await host.listTools({ label: "other" }, signal());
    assert.ok("error" in listed);
    assert.match(listed.error, /no MCP server is configured under the label 'other'/);
  });

  it("with allowRequestServers: false, refuses a server named by URL but serves configured ones", async () => {
    const server = await httpServer();
    const { host } = makeHost({ allowRequestServers: false, servers: { mine: { url: server.url } } });
    const refused = await host.listTools(byUrl(server), signal());
    assert.ok("error" in refused);
    assert.match(refused.error, /mcp\.allowRequestServers is false/);
    assert.equal(server.requests.length, 0);
    assert.deepEqual(await host.callTool({ label: "mine" }, "echo", { text: "ok" }, signal()), { output: "ok" });
  });

  it("refuses a URL that is not http or https", async () => {
    const { host } = makeHost();
    const listed = await host.listTools({ label: "x", url: "file:///etc/passwd" }, signal());
    assert.ok("error" in listed);
    assert.match(listed.error, /must be http or https/);
  });
});

describe("McpToolHost over stdio", () => {
  it("starts the configured command, lists, calls, passes env references, logs stderr, and close() ends the child", async () => {
    const { host, log } = makeHost(
      { servers: { local: { ...STDIO, env: { SERVER_TOKEN: "env:TOKEN_SOURCE" } } } },
      { env: { TOKEN_SOURCE: "stdio-secret-value-42" } },
    );
    const listed = await host.listTools({ label: "local" }, signal());
    assert.ok("tools" in listed, JSON.stringify(listed));
    assert.ok(listed.tools.some((t) => t.name === "pid"));
    assert.deepEqual(await host.callTool({ label: "local" }, "echo", { text: "over stdio" }, signal()), { output: "over stdio" });
    assert.deepEqual(await host.callTool({ label: "local" }, "env", { name: "SERVER_TOKEN" }, signal()), {
      output: "stdio-secret-value-42",
    });
    const pid = Number((await host.callTool({ label: "local" }, "pid", {}, signal())).output);
    assert.ok(pid > 0 && pid !== process.pid);
    assert.ok(log.lines.some((l) => l.message === "mcp: server stderr" && String(l.stderr).includes("ready")));
    await host.close();
    await host.close();
    assert.throws(() => process.kill(pid, 0), { code: "ESRCH" });
    const afterClose = await host.listTools({ label: "local" }, signal());
    assert.ok("error" in afterClose);
  });

  it("restarts a crashed server on next use, but not more often than restartIntervalMs", async () => {
    const { host } = makeHost({ servers: { local: STDIO } }, { restartIntervalMs: 0 });
    const first = Number((await host.callTool({ label: "local" }, "pid", {}, signal())).output);
    const crashed = await host.callTool({ label: "local" }, "crash", {}, signal());
    assert.match(crashed.error ?? "", /tool 'crash' of MCP server 'local' failed: the server process exited/);
    const second = Number((await host.callTool({ label: "local" }, "pid", {}, signal())).output);
    assert.ok(second > 0 && second !== first);

    const { host: slow } = makeHost({ servers: { local: STDIO } }, { restartIntervalMs: 60_000 });
    await slow.callTool({ label: "local" }, "crash", {}, signal());
    const refused = await slow.callTool({ label: "local" }, "pid", {}, signal());
    assert.match(refused.error ?? "", /is not running \(the server exited\); it is started again at most every 60000 ms/);
  });

  it("ignores a late answer to a call it cancelled: the server and the other calls on it stay up", async () => {
    const { host, log } = makeHost({ servers: { raw: MCP_RAW_STDIO_SERVER } });
    const raw = { label: "raw" };
    const pid = (await host.callTool(raw, "pid", {}, signal())).output;
    // The caller leaves; the server goes on and answers at 300 ms anyway, as the spec lets it.
    const leaving = new AbortController();
    const cancelled = host.callTool(raw, "slow", { ms: 300 }, leaving.signal);
    setTimeout(() => leaving.abort(), 50);
    await assert.rejects(cancelled);
    // Another client's call, running when the late answer arrives.
    const other = await host.callTool(raw, "slow", { ms: 600 }, signal());
    assert.deepEqual(other, { output: "waited 600 ms" });
    assert.equal((await host.callTool(raw, "pid", {}, signal())).output, pid, "the same server process");
    assert.ok(!log.lines.some((l) => l.message === "mcp: transport error; reconnecting on next use"), JSON.stringify(log.lines));
  });

  it("ignores the late answer to a call that timed out, and the server stays up", async () => {
    const { host } = makeHost({ callTimeoutMs: 200, servers: { raw: MCP_RAW_STDIO_SERVER } });
    const raw = { label: "raw" };
    const pid = (await host.callTool(raw, "pid", {}, signal())).output;
    const other = host.callTool(raw, "slow", { ms: 150 }, signal());
    setTimeout(() => void host.callTool(raw, "slow", { ms: 100 }, signal()), 100);
    assert.match((await host.callTool(raw, "slow", { ms: 250 }, signal())).error ?? "", /timed out after 200 ms/);
    assert.deepEqual(await other, { output: "waited 150 ms" });
    // The late answer (at 250 ms) arrives while this call runs.
    assert.deepEqual(await host.callTool(raw, "slow", { ms: 150 }, signal()), { output: "waited 150 ms" });
    assert.equal((await host.callTool(raw, "pid", {}, signal())).output, pid);
  });

  it("ignores, logged at debug, an answer to no pending request (a stray id, a second answer), and the server stays up", async () => {
    const { host, log } = makeHost({ servers: { raw: MCP_RAW_STDIO_SERVER } }, { restartIntervalMs: 60_000 });
    const raw = { label: "raw" };
    const pid = (await host.callTool(raw, "pid", {}, signal())).output;
    assert.deepEqual(await host.callTool(raw, "stray", {}, signal()), { output: "answered after a stray one" });
    assert.deepEqual(await host.callTool(raw, "twice", {}, signal()), { output: "answered once" });
    // The calls after them reach the same server process, and its tools are still listed.
    assert.equal((await host.callTool(raw, "pid", {}, signal())).output, pid, "the same server process");
    assert.ok("tools" in (await host.listTools(raw, signal())));
    assert.ok(!log.lines.some((l) => l.message === "mcp: transport error; reconnecting on next use"), JSON.stringify(log.lines));
    const ignored = log.lines.filter((l) => l.message === "mcp: an answer to no pending request, ignored");
    assert.deepEqual(
      ignored.map((l) => l.level),
      ["debug", "debug"],
    );
    assert.equal(ignored[0]?.id, 99999);
  });

  it("takes a JSON-RPC error answering a call as that call's error, with the server's message, and keeps the server", async () => {
    const { host } = makeHost({ servers: { raw: MCP_RAW_STDIO_SERVER } }, { restartIntervalMs: 60_000 });
    const raw = { label: "raw" };
    const pid = (await host.callTool(raw, "pid", {}, signal())).output;
    // -32000 is also the code the SDK gives a connection that closed: the server's answer is not that.
    const failed = await host.callTool(raw, "rpc_error", { message: "lookup failed: no such customer" }, signal());
    assert.match(failed.error ?? "", /^tool 'rpc_error' of MCP server 'raw' failed: .*lookup failed: no such customer$/);
    assert.doesNotMatch(failed.error ?? "", /exited|closed/);
    assert.equal(failed.failure?.kind, "protocol");
    assert.equal(failed.failure?.kind === "protocol" && failed.failure.code, -32000);
    assert.equal((await host.callTool(raw, "pid", {}, signal())).output, pid, "the same server, still running");
    const listed = await host.listTools(raw, signal());
    assert.ok("tools" in listed, JSON.stringify(listed));
  });

  it("reads a long line without a newline in linear time, without holding the event loop, and cuts it at 10 MiB", async () => {
    const { host, log } = makeHost({ servers: { raw: MCP_RAW_STDIO_SERVER } }, { restartIntervalMs: 0 });
    const raw = { label: "raw" };
    await host.callTool(raw, "pid", {}, signal());
    // The longest the event loop was held while the flood was read.
    let longest = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    }, 5);
    try {
      const flooded = await host.callTool(raw, "noline", { mib: 40 }, signal());
      assert.equal(flooded.error, `tool 'noline' of MCP server 'raw' failed: ${LINE_TOO_LONG}`);
    } finally {
      clearInterval(ticker);
    }
    assert.ok(longest < 250, `the event loop was held for ${Math.round(longest)} ms`);
    // One flood, one error: the 30 MiB after the limit are dropped, not each refused again.
    assert.equal(log.lines.filter((l) => l.message === "mcp: transport error; reconnecting on next use").length, 1);
    // Started afresh on the next use.
    assert.ok((await host.callTool(raw, "pid", {}, signal())).output);
  });

  it("says a line over 10 MiB ended the server, not that it exited, and logs it once", async () => {
    const { host, log } = makeHost({ servers: { raw: MCP_RAW_STDIO_SERVER } }, { restartIntervalMs: 0 });
    const raw = { label: "raw" };
    await host.callTool(raw, "pid", {}, signal());
    // A whole answer, newline and all, over the limit: the rest of it after 10 MiB is not read as another line.
    const long = await host.callTool(raw, "long", { mib: 11 }, signal());
    assert.equal(long.error, `tool 'long' of MCP server 'raw' failed: ${LINE_TOO_LONG}`);
    const errors = log.lines.filter((l) => l.message === "mcp: transport error; reconnecting on next use");
    assert.deepEqual(
      errors.map((l) => l.reason),
      [LINE_TOO_LONG],
    );
    assert.ok((await host.callTool(raw, "pid", {}, signal())).output);
  });

  it("returns an error for a command that does not exist", async () => {
    const { host } = makeHost({ servers: { missing: { command: "tandem-no-such-mcp-server-cmd" } } });
    const listed = await host.listTools({ label: "missing" }, signal());
    assert.ok("error" in listed);
    assert.match(listed.error, /cannot connect to MCP server 'missing'/);
  });
});
