/**
 * An MCP server that redirects: within its origin the redirect is followed; to another origin (another
 * port of this machine here, a service the client never named) nothing is sent, neither the request's
 * body nor the tool's headers, and the error says the redirect was refused.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { type McpConfig, mcpSchema } from "../../../../src/config/index.js";
import { McpToolHost, SILENT_MCP_LOG } from "../../../../src/harness/tools/mcp/index.js";
import { fetchWithinOrigin, McpRedirectRefused } from "../../../../src/harness/tools/mcp/mcp-redirects.js";
import { startMcpHttpServer } from "../../../support/mcp-test-server.js";

const hosts: McpToolHost[] = [];
const closers: Array<() => Promise<void>> = [];
after(async () => {
  await Promise.all(hosts.map((h) => h.close()));
  await Promise.all(closers.map((c) => c()));
});

/** A server on 127.0.0.1 answering every request with `answer`; records the method and path of each. */
async function listen(answer: (req: IncomingMessage) => { status: number; headers?: Record<string, string> }) {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    req.resume();
    const { status, headers } = answer(req);
    res.writeHead(status, headers).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

describe("an MCP server that redirects to another origin", () => {
  for (const status of [307, 302, 308, 301]) {
    it(`(${status}) gets nothing sent there, and the error says the redirect was refused`, async () => {
      const elsewhere = await listen(() => ({ status: 200 }));
      const redirector = await listen(() => ({ status, headers: { location: `${elsewhere.origin}/steal?x=1` } }));
      const host = new McpToolHost(mcpSchema.parse({ listTimeoutMs: 10_000 }) as McpConfig, { log: SILENT_MCP_LOG, env: {} });
      hosts.push(host);
      const listed = await host.listTools(
        { label: "redir", url: `${redirector.origin}/mcp`, headers: { "X-Custom-Secret": "HDRSECRET-77" } },
        new AbortController().signal,
      );
      assert.ok("error" in listed, JSON.stringify(listed));
      assert.match(listed.error, /redirects to http:\/\/127\.0\.0\.1:\d+\/steal, outside its origin/);
      assert.doesNotMatch(listed.error, /x=1/, "the target's query is not repeated");
      assert.ok(redirector.hits.length > 0);
      assert.deepEqual(elsewhere.hits, [], "no request reached the other origin");
    });
  }
});

describe("an MCP server that redirects within its origin", () => {
  it("is followed there, its tools listed", async () => {
    const mcp = await startMcpHttpServer();
    closers.push(() => mcp.close());
    // The same server under another path: a proxy in front of it that moved the endpoint.
    const moved = new URL(mcp.url);
    const fetchOnce = async (url: URL, init: RequestInit) => {
      assert.equal(init.redirect, "manual", "the HTTP client never follows by itself");
      if (url.pathname === "/old") return new Response(null, { status: 308, headers: { location: moved.pathname } });
      return fetch(url, init);
    };
    const answer = await fetchWithinOrigin(fetchOnce, new URL("/old", moved), {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }),
    });
    // The server got the POST at /mcp (an MCP error or answer; not the redirect).
    assert.notEqual(answer.status, 308);
    assert.ok(mcp.requests.length > 0);
  });

  it("leaves a redirect to the caller that asks for redirect 'manual', and refuses a chain that does not end", async () => {
    const seen: string[] = [];
    const loop = async (url: URL) => {
      seen.push(url.pathname);
      return new Response(null, { status: 307, headers: { location: `${url.pathname}x` } });
    };
    const manual = await fetchWithinOrigin(loop, new URL("http://127.0.0.1:1/a"), { redirect: "manual" });
    assert.equal(manual.status, 307);
    await assert.rejects(fetchWithinOrigin(loop, new URL("http://127.0.0.1:1/a")), McpRedirectRefused);
    assert.equal(seen.length, 1 + 6);
  });
});
