/**
 * A sandboxed stdio server where no sandbox can be made (bubblewrap missing, bubblewrap refused its
 * namespaces, not Linux) is not started at all, never unconfined instead: the call fails with the
 * reason (what to install, or `sandbox: false`), and status says it failed before any request.
 * Needs no bubblewrap: its absence and refusal are simulated (PATH, a stand-in bwrap).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type McpConfig, mcpSchema } from "../../../../src/config/index.js";
import { McpToolHost, type McpToolHostOptions, SILENT_MCP_LOG } from "../../../../src/harness/tools/mcp/index.js";

let root: string;
let marker: string;
const hosts: McpToolHost[] = [];

before(async () => {
  root = await mkdtemp(join(tmpdir(), "tandem-nosandbox-"));
  marker = join(root, "started");
  // A stand-in for a bubblewrap that cannot make namespaces (as in a locked-down container).
  await writeFile(
    join(root, "bwrap"),
    "#!/bin/sh\necho 'bwrap: No permissions to create new namespace, likely because the kernel does not allow non-privileged user namespaces.' >&2\nexit 1\n",
  );
  await chmod(join(root, "bwrap"), 0o755);
});

after(async () => {
  await Promise.all(hosts.map((h) => h.close()));
  await rm(root, { recursive: true, force: true });
});

/** A host whose one server, if it ever ran, would leave a marker file behind. */
function makeHost(options: Partial<McpToolHostOptions>): McpToolHost {
  const config = mcpSchema.parse({
    servers: { box: { command: "/bin/sh", args: ["-c", `echo ran > '${marker}'`], sandbox: true } },
  }) as McpConfig;
  const host = new McpToolHost(config, { log: SILENT_MCP_LOG, env: { HOME: root }, restartIntervalMs: 0, ...options });
  hosts.push(host);
  return host;
}

/** The server's status once the start-up check has settled. */
async function settledStatus(host: McpToolHost) {
  for (let i = 0; i < 500; i++) {
    const server = host.status().servers[0];
    if (server?.sandbox?.state !== "checking") return server;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail("the sandbox check never settled");
}

async function listError(host: McpToolHost): Promise<string> {
  const listed = await host.listTools({ label: "box" }, new AbortController().signal);
  assert.ok("error" in listed, JSON.stringify(listed));
  return listed.error;
}

describe("a sandboxed server where no sandbox can be made", () => {
  it("is not started when bwrap is not on PATH, and says how to install it or opt out", async () => {
    const host = makeHost({ env: { HOME: root, PATH: join(root, "empty") } });
    const status = await settledStatus(host);
    assert.equal(status?.sandbox?.state, "failed");
    assert.match(
      status?.sandbox?.state === "failed" ? status.sandbox.reason : "",
      /^bubblewrap \(bwrap\) is not installed \(not found on PATH\): install bubblewrap \(Debian\/Ubuntu: apt install bubblewrap; .*\), or set sandbox: false on the server to run it unconfined$/,
    );
    const error = await listError(host);
    assert.match(error, /^MCP server 'box' is not started: it is sandboxed, and bubblewrap \(bwrap\) is not installed/);
    assert.match(error, /sandbox: false/);
    assert.equal(
      await host.callTool({ label: "box" }, "anything", {}, new AbortController().signal).then((o) => "error" in o),
      true,
    );
    assert.equal(existsSync(marker), false, "the server ran unconfined");
    assert.match(host.status().servers[0]?.lastError?.message ?? "", /is not started: it is sandboxed, and bubblewrap/);
  });

  it("is not started when bwrap cannot create the namespaces, with bwrap's own words", async () => {
    const host = makeHost({ env: { HOME: root, PATH: root } });
    const error = await listError(host);
    assert.match(
      error,
      new RegExp(
        `bubblewrap \\(${join(root, "bwrap")}\\) cannot create a sandbox here: bwrap: No permissions to create new namespace`,
      ),
    );
    assert.match(error, /user namespaces/);
    assert.match(error, /sandbox: false/);
    assert.equal(existsSync(marker), false, "the server ran unconfined");
    assert.equal((await settledStatus(host))?.sandbox?.state, "failed");
  });

  it("is not started on macOS (or any OS but Linux), saying so", async () => {
    const host = makeHost({ platform: "darwin", env: { HOME: root, PATH: process.env.PATH } });
    const error = await listError(host);
    assert.match(
      error,
      /sandboxed MCP servers need Linux with bubblewrap; this machine runs darwin \(macOS's sandbox-exec is deprecated and not used/,
    );
    assert.match(error, /set sandbox: false on the server to run it unconfined/);
    assert.equal(existsSync(marker), false, "the server ran unconfined");
  });
});
