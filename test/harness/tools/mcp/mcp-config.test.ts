/** The `mcp` config section: its defaults, and the errors a mistake in it gets (with the field's path). */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ConfigError, configSchema, loadConfig } from "../../../../src/config/index.js";

function issues(mcp: unknown): string[] {
  const parsed = configSchema.safeParse({ mcp });
  assert.equal(parsed.success, false);
  return parsed.error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`) ?? [];
}

describe("config mcp", () => {
  it("parses to no servers and the documented defaults when absent or empty", () => {
    const defaults = {
      sandbox: false,
      servers: {},
      callTimeoutMs: 60_000,
      listTimeoutMs: 15_000,
      maxOutputBytes: 262_144,
      allowRequestServers: true,
    };
    assert.deepEqual(configSchema.parse({}).mcp, defaults);
    assert.deepEqual(configSchema.parse({ mcp: {} }).mcp, defaults);
  });

  it("reads a stdio server's sandbox over mcp.sandbox: true for the defaults, false for none, fields from the server first", () => {
    const { mcp } = configSchema.parse({
      mcp: {
        sandbox: { read: ["~/shared"], env: ["LANG"] },
        servers: {
          inherits: { command: "a" },
          defaults: { command: "b", sandbox: true },
          own: { command: "c", sandbox: { network: true, read: ["docs"], write: ["/srv/out"] } },
          off: { command: "d", sandbox: false },
          remote: { url: "http://127.0.0.1:9/mcp" },
        },
      },
    });
    // `from` names where each list came from, for errors: mcp.sandbox's, or (unset there) the server's own.
    assert.deepEqual(mcp.servers.inherits?.sandbox, {
      network: false,
      read: ["~/shared"],
      write: [],
      env: ["LANG"],
      from: { read: "mcp.sandbox", write: "mcp.servers.inherits.sandbox", env: "mcp.sandbox" },
    });
    assert.deepEqual(
      { ...mcp.servers.defaults?.sandbox, from: undefined },
      { ...mcp.servers.inherits?.sandbox, from: undefined },
    );
    assert.deepEqual(mcp.servers.own?.sandbox, {
      network: true,
      read: ["docs"],
      write: ["/srv/out"],
      env: ["LANG"],
      from: { read: "mcp.servers.own.sandbox", write: "mcp.servers.own.sandbox", env: "mcp.sandbox" },
    });
    assert.equal(mcp.servers.off?.sandbox, undefined);
    assert.equal("sandbox" in (mcp.servers.remote ?? {}), false);
    // Without mcp.sandbox, true is the defaults: nothing but the program, its cwd, no network.
    const alone = configSchema.parse({ mcp: { servers: { s: { command: "x", sandbox: true } } } }).mcp.servers.s;
    assert.deepEqual(alone?.sandbox, {
      network: false,
      read: [],
      write: [],
      env: [],
      from: { read: "mcp.servers.s.sandbox", write: "mcp.servers.s.sandbox", env: "mcp.servers.s.sandbox" },
    });
    // And without any sandbox setting, a stdio server is not confined (as before).
    assert.equal(configSchema.parse({ mcp: { servers: { s: { command: "x" } } } }).mcp.servers.s?.sandbox, undefined);
  });

  it("names the sandbox field and what was expected for each mistake", () => {
    const server = (sandbox: unknown) => issues({ servers: { files: { command: "node", sandbox } } });
    assert.deepEqual(server("yes"), [
      "mcp.servers.files.sandbox: expected true, false or an object {network, read, write, env, memoryMiB, maxProcesses}",
    ]);
    assert.deepEqual(server(["~/docs"]), [
      "mcp.servers.files.sandbox: expected true, false or an object {network, read, write, env, memoryMiB, maxProcesses}",
    ]);
    assert.deepEqual(server({ network: "no" }), [
      "mcp.servers.files.sandbox.network: Invalid input: expected boolean, received string",
    ]);
    assert.deepEqual(server({ read: "~/docs" }), [
      "mcp.servers.files.sandbox.read: Invalid input: expected array, received string",
    ]);
    assert.deepEqual(server({ write: ["~/ok", ""] }), ["mcp.servers.files.sandbox.write.1: expected a path"]);
    assert.deepEqual(server({ read: ["/"] }), [
      "mcp.servers.files.sandbox.read.0: '/' would give the server the whole machine: list the folders it needs, or set sandbox: false",
    ]);
    assert.deepEqual(server({ env: ["GOOD", "BAD-NAME"] }), [
      "mcp.servers.files.sandbox.env.1: expected an environment variable name (letters, digits, '_')",
    ]);
    assert.deepEqual(server({ nework: false }), ["mcp.servers.files.sandbox.nework: unknown key; did you mean network?"]);
    assert.deepEqual(issues({ servers: { web: { url: "http://127.0.0.1:9/mcp", sandbox: true } } }), [
      "mcp.servers.web.sandbox: sandbox is for a stdio server (command), not a url",
    ]);
    assert.deepEqual(issues({ sandbox: 1 }), [
      "mcp.sandbox: expected true, false or an object {network, read, write, env, memoryMiB, maxProcesses}",
    ]);
  });

  it("reports a bad sandbox field in a config file with the file, the field's path and what was expected", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tandem-config-"));
    try {
      const file = join(dir, "tandem.config.yaml");
      await writeFile(file, "mcp:\n  servers:\n    files:\n      command: node\n      sandbox:\n        read: [~/docs, 42]\n");
      await assert.rejects(
        loadConfig({ configPath: file, env: {}, cwd: dir, skipOllamaProbe: true }),
        (err: unknown) =>
          err instanceof ConfigError &&
          err.message === `${file}: mcp.servers.files.sandbox.read[1]: Invalid input: expected string, received number`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
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
