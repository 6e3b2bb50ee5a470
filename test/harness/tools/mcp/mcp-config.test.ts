/** The `mcp` config section: its defaults, and the errors a mistake in it gets (with the field's path). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configSchema } from "../../../../src/config/index.js";

function issues(mcp: unknown): string[] {
  const parsed = configSchema.safeParse({ mcp });
  assert.equal(parsed.success, false);
  return parsed.error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`) ?? [];
}

describe("config mcp", () => {
  it("parses to no servers and the documented defaults when absent or empty", () => {
    const defaults = {
      servers: {},
      callTimeoutMs: 60_000,
      listTimeoutMs: 15_000,
      maxOutputBytes: 262_144,
      allowRequestServers: true,
    };
    assert.deepEqual(configSchema.parse({}).mcp, defaults);
    assert.deepEqual(configSchema.parse({ mcp: {} }).mcp, defaults);
  });

  it("refuses a sandbox setting, which is not built yet, rather than ignoring it", () => {
    assert.deepEqual(issues({ servers: { files: { command: "node", sandbox: true } } }), [
      "mcp.servers.files.sandbox: sandboxing an MCP server is not built yet: remove it (a stdio server runs with tandem's user's rights)",
    ]);
  });

  it("reads remote and stdio servers, filling their defaults", () => {
    const { mcp } = configSchema.parse({
      mcp: {
        servers: {
          github: { url: "https://api.example.com/mcp", headers: { Authorization: `Bearer \${keychain:github}` } },
          files: {
            command: "npx",
            args: ["-y", "@modelcontextprotocol/server-filesystem", "."],
            env: { TOKEN: "env:FILES_TOKEN" },
            cwd: "work",
          },
          "plain_1-x": { command: "my-server" },
        },
        callTimeoutMs: 1000,
        allowRequestServers: false,
      },
    });
    assert.deepEqual(mcp.servers.github, {
      url: "https://api.example.com/mcp",
      headers: { Authorization: `Bearer \${keychain:github}` },
    });
    assert.deepEqual(mcp.servers.files, {
      command: "npx",
      args: ["-y", "@modelcontextprotocol/server-filesystem", "."],
      env: { TOKEN: "env:FILES_TOKEN" },
      cwd: "work",
    });
    assert.deepEqual(mcp.servers["plain_1-x"], { command: "my-server", args: [], env: {} });
    assert.equal(mcp.callTimeoutMs, 1000);
    assert.equal(mcp.allowRequestServers, false);
  });

  it("names the field and what was expected for each mistake", () => {
    assert.deepEqual(issues({ servers: { "has space": { url: "http://127.0.0.1/mcp" } } }), [
      "mcp.servers.has space: expected a server label of 1-64 letters, digits, '_' or '-'",
    ]);
    assert.match(issues({ servers: { [`a${"b".repeat(64)}`]: { command: "x" } } })[0] ?? "", /server label/);
    assert.deepEqual(issues({ servers: { a: { url: "ftp://example.com/mcp" } } }), [
      "mcp.servers.a.url: expected an http or https URL",
    ]);
    assert.deepEqual(issues({ servers: { a: { url: "http://x/mcp", command: "y" } } }), [
      "mcp.servers.a: expected either url (a remote server) or command (a stdio server), not both",
    ]);
    assert.deepEqual(issues({ servers: { a: {} } }), [
      "mcp.servers.a: expected url (a remote server) or command (a stdio server)",
    ]);
    assert.deepEqual(issues({ servers: { a: { url: "http://x/mcp", args: ["-v"] } } }), [
      "mcp.servers.a.args: args is for a stdio server (command), not a url",
    ]);
    assert.deepEqual(issues({ servers: { a: { command: "x", headers: { A: "b" } } } }), [
      "mcp.servers.a.headers: headers are for a remote server (url), not a command",
    ]);
    assert.match(issues({ servers: { a: { command: "x", env: { "BAD-NAME": "1" } } } })[0] ?? "", /environment variable name/);
    assert.match(issues({ callTimeoutMs: 0 })[0] ?? "", /^mcp\.callTimeoutMs:/);
    assert.match(issues({ maxOutputBytes: -1 })[0] ?? "", /^mcp\.maxOutputBytes:/);
    assert.match(issues({ serverz: {} })[0] ?? "", /serverz/);
  });
});
