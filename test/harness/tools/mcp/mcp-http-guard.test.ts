/**
 * An MCP server over HTTP as the attacker: one that answers without end (a JSON body or an event
 * stream that never finishes), and a request's `server_url` pointed at addresses it must not reach
 * (this machine's own services when tandem's clients may be elsewhere; an address that is no single
 * host). Every server here listens on 127.0.0.1; `0.0.0.0` reaches it too, on Linux, which is what
 * makes it a way around a check that only reads the URL.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { type McpConfig, mcpSchema } from "../../../../src/config/index.js";
import { McpToolHost, type McpToolHostOptions, SILENT_MCP_LOG } from "../../../../src/harness/tools/mcp/index.js";
import { addressKind, requestServerAddressRefusal } from "../../../../src/harness/tools/mcp/mcp-address-policy.js";
import { type McpHttpServer, startMcpHttpServer } from "../../../support/mcp-test-server.js";

const MiB = 1024 * 1024;
const hosts: McpToolHost[] = [];
const closers: Array<() => Promise<void>> = [];
after(async () => {
  await Promise.all(hosts.map((h) => h.close()));
  await Promise.all(closers.map((c) => c()));
});

function makeHost(config: unknown, options: Partial<McpToolHostOptions> = {}): McpToolHost {
  const host = new McpToolHost(mcpSchema.parse(config) as McpConfig, { log: SILENT_MCP_LOG, env: {}, ...options });
  hosts.push(host);
  return host;
}

/** A server that answers every request with a 200 of this content type and a body that never ends; counts what it wrote. */
async function endlessServer(contentType: string, chunk: string): Promise<{ url: string; written: () => number }> {
  let written = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": contentType });
    const piece = Buffer.from(chunk.repeat(Math.ceil(65536 / chunk.length)));
    const pump = () => {
      while (!res.destroyed) {
        written += piece.length;
        if (!res.write(piece)) return void res.once("drain", pump);
      }
    };
    if (contentType === "text/event-stream") res.write("data: ");
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, written: () => written };
}

const signal = () => new AbortController().signal;

describe("an MCP server that answers without end", () => {
  for (const [kind, contentType, chunk] of [
    ["a JSON body", "application/json", " "],
    ["an event stream's one endless event", "text/event-stream", "a"],
  ] as const) {
    it(`stops reading ${kind} at limits.maxAnswerBytes`, async () => {
      const server = await endlessServer(contentType, chunk);
      const host = makeHost({ listTimeoutMs: 20_000 }, { maxAnswerBytes: MiB });
      const listed = await host.listTools({ label: "endless", url: server.url }, signal());
      assert.ok("error" in listed, JSON.stringify(listed).slice(0, 300));
      // Read up to the cap, then let go: what the server got out is the cap and the sockets' buffers, not gigabytes.
      assert.ok(server.written() < 32 * MiB, `the server wrote ${server.written()} bytes`);
      // Said as it is, at once (not as the listing's timeout, which would come later and say nothing of why).
      assert.match(listed.error, /larger than 1048576 bytes \(limits\.maxAnswerBytes\)/);
    });
  }
});

describe("an MCP server whose tool answers past limits.maxAnswerBytes", () => {
  it("fails that call saying so, and the next use connects afresh", async () => {
    const server = await startMcpHttpServer();
    closers.push(() => server.close());
    const host = makeHost({ callTimeoutMs: 20_000 }, { maxAnswerBytes: MiB });
    const ref = { label: "big", url: server.url };
    const big = await host.callTool(ref, "echo", { text: "x".repeat(2 * MiB) }, signal());
    assert.match(big.error ?? JSON.stringify(big), /larger than 1048576 bytes \(limits\.maxAnswerBytes\)/);
    const small = await host.callTool(ref, "echo", { text: "hi" }, signal());
    assert.equal(small.output, "hi", JSON.stringify(small));
  });
});

describe("a request's server_url", () => {
  let mcp: McpHttpServer;
  const serverAt = async () => {
    mcp ??= await startMcpHttpServer();
    closers.push(() => mcp.close());
    return mcp;
  };

  it("reaches this machine when every client is on it (the default), configured servers always", async () => {
    const server = await serverAt();
    const host = makeHost({});
    const listed = await host.listTools({ label: "local", url: server.url }, signal());
    assert.ok("tools" in listed, JSON.stringify(listed));
  });

  it("does not reach this machine when tandem takes requests from elsewhere: not by 127.0.0.1, localhost or 0.0.0.0", async () => {
    const server = await serverAt();
    const before = server.requests.length;
    const host = makeHost({}, { clientsAreLocal: false });
    const port = new URL(server.url).port;
    for (const url of [
      server.url,
      `http://localhost:${port}/mcp`,
      `http://0.0.0.0:${port}/mcp`,
      `http://[::ffff:127.0.0.1]:${port}/mcp`,
    ]) {
      const listed = await host.listTools({ label: "sneaky", url }, signal());
      assert.ok("error" in listed, `${url}: ${JSON.stringify(listed)}`);
      assert.match(listed.error, /server_url resolves to .*(this machine|no single host).*mcp\.servers/, url);
    }
    assert.equal(server.requests.length, before, "no request reached the server");
    // The same server, configured by the user, is still used.
    const configured = makeHost({ servers: { mine: { url: server.url } } }, { clientsAreLocal: false });
    assert.ok("tools" in (await configured.listTools({ label: "mine" }, signal())));
  });

  it("never reaches an address that is no single host, even when every client is local", async () => {
    const server = await serverAt();
    const before = server.requests.length;
    const host = makeHost({});
    const listed = await host.listTools({ label: "any", url: `http://0.0.0.0:${new URL(server.url).port}/mcp` }, signal());
    assert.ok("error" in listed && /no single host/.test(listed.error), JSON.stringify(listed));
    assert.equal(server.requests.length, before);
  });
});

describe("the address policy", () => {
  it("knows loopback, private, link-local, no-host and public addresses, mapped ones too", () => {
    const cases: Array<[string, ReturnType<typeof addressKind>]> = [
      ["127.0.0.1", "loopback"],
      ["127.8.9.10", "loopback"],
      ["::1", "loopback"],
      ["::ffff:127.0.0.1", "loopback"],
      ["10.1.2.3", "private"],
      ["172.16.0.1", "private"],
      ["172.31.255.255", "private"],
      ["172.32.0.1", "public"],
      ["192.168.1.1", "private"],
      ["100.100.1.1", "private"],
      ["fd12:3456::1", "private"],
      ["169.254.169.254", "link-local"],
      ["::ffff:169.254.169.254", "link-local"],
      ["fe80::1", "link-local"],
      ["0.0.0.0", "not-a-host"],
      ["::", "not-a-host"],
      ["224.0.0.1", "not-a-host"],
      ["255.255.255.255", "not-a-host"],
      ["ff02::1", "not-a-host"],
      ["8.8.8.8", "public"],
      ["2606:4700::1111", "public"],
      ["not an address", "not-a-host"],
    ];
    for (const [address, kind] of cases) assert.equal(addressKind(address), kind, address);
  });

  it("lets a request's server reach public addresses always, local ones only for local clients, link-local never", () => {
    assert.equal(requestServerAddressRefusal("8.8.8.8", false), undefined);
    assert.equal(requestServerAddressRefusal("127.0.0.1", true), undefined);
    assert.equal(requestServerAddressRefusal("192.168.1.5", true), undefined);
    assert.match(requestServerAddressRefusal("127.0.0.1", false) ?? "", /this machine/);
    assert.match(requestServerAddressRefusal("10.0.0.5", false) ?? "", /private network/);
    assert.match(requestServerAddressRefusal("169.254.169.254", true) ?? "", /link-local/);
    assert.match(requestServerAddressRefusal("fe80::1", true) ?? "", /link-local/);
  });
});
