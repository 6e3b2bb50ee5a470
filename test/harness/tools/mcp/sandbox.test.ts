/**
 * A sandboxed stdio MCP server (test/support/mcp-reach-server.ts, whose tools read, write, fetch and
 * list their environment) run by McpToolHost inside bubblewrap: it does its job in its cwd and the
 * paths it is given, and cannot reach anything else: a planted ~/.ssh key of a temp HOME, tandem's
 * data dir, paths outside its writable ones, a listener on 127.0.0.1, variables not listed.
 * Skipped, saying why, only where bubblewrap cannot run (CI installs it: .ci/run).
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type McpConfig, mcpSchema } from "../../../../src/config/index.js";
import { findExecutable } from "../../../../src/harness/sandbox/index.js";
import { filterArchOf, syscallFilter } from "../../../../src/harness/sandbox/syscall-filter.js";
import { syscallFilterFile } from "../../../../src/harness/sandbox/syscall-filter-file.js";
import { McpToolHost, SILENT_MCP_LOG } from "../../../../src/harness/tools/mcp/index.js";
import { MCP_REACH_SERVER } from "../../../support/mcp-test-server.js";
import { DEFAULT_PROCESS_LIMIT_STATUS } from "../../../support/sandbox-process-limit.js";

// Skipped only where bubblewrap is absent (CI installs it): one that is present but refused its namespaces fails.
const bwrap = process.platform === "linux" ? await findExecutable("bwrap", process.env.PATH) : undefined;
const skip = bwrap === undefined ? "needs bubblewrap (bwrap) on Linux: not installed here (apt install bubblewrap)" : false;
/** What status says of the syscall filter on this machine (x64 and arm64 have one). */
const FILTER =
  filterArchOf(process.arch) !== undefined
    ? { syscallFilter: true }
    : { syscallFilter: false, noSyscallFilter: `tandem has no syscall table for ${process.arch} (only x64 and arm64)` };

let root: string;
let home: string;
let project: string;
let docs: string;
let out: string;
let dataDir: string;
let listener: Server;
let listenerUrl: string;
let host: McpToolHost;

const signal = () => new AbortController().signal;

async function call(label: string, name: string, args: Record<string, unknown> = {}) {
  return host.callTool({ label }, name, args, signal());
}

/** The text of a tool's output, failing the test when the call failed. */
async function output(label: string, name: string, args: Record<string, unknown> = {}): Promise<string> {
  const outcome = await call(label, name, args);
  assert.ok(outcome.output !== undefined, `${name} ${JSON.stringify(args)}: ${JSON.stringify(outcome)}`);
  return outcome.output;
}

/** The error of a tool call, failing the test when it succeeded. */
async function refusal(label: string, name: string, args: Record<string, unknown> = {}): Promise<string> {
  const outcome = await call(label, name, args);
  assert.ok(outcome.error !== undefined, `${name} ${JSON.stringify(args)} was expected to fail: ${JSON.stringify(outcome)}`);
  return outcome.error;
}

describe("a sandboxed stdio MCP server", { skip }, () => {
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "tandem-sandbox-"));
    home = join(root, "home");
    project = join(home, "project");
    docs = join(home, "docs");
    out = join(home, "out");
    dataDir = join(home, ".local", "share", "tandem");
    for (const dir of [project, docs, out, join(home, ".ssh"), dataDir]) await mkdir(dir, { recursive: true });
    await writeFile(join(home, ".ssh", "id_rsa"), "FAKE-PRIVATE-KEY");
    await writeFile(join(dataDir, "tandem.db"), "ENCRYPTED-STORE-BYTES");
    await writeFile(join(project, "notes.txt"), "project notes");
    await writeFile(join(docs, "readme.txt"), "the docs");
    await symlink(docs, join(home, "docs-link"));
    await mkdir(join(dataDir, "scratch"));
    listener = createServer((_req, res) => res.end("hello from the host"));
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    listenerUrl = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/`;
    const config = mcpSchema.parse({
      servers: {
        box: { ...MCP_REACH_SERVER, cwd: project, sandbox: { read: [docs], write: [out], env: ["LISTED_VAR"] } },
        online: { ...MCP_REACH_SERVER, sandbox: { network: true } },
        // The whole home readable: the data dir in it still is not.
        wide: { ...MCP_REACH_SERVER, sandbox: { read: ["~"] } },
        linked: { ...MCP_REACH_SERVER, sandbox: { read: ["~/docs-link"] } },
        plain: { ...MCP_REACH_SERVER },
        small: { ...MCP_REACH_SERVER, sandbox: { memoryMiB: 256 } },
        missing: { ...MCP_REACH_SERVER, sandbox: { read: ["~/not-there"] } },
        indata: { ...MCP_REACH_SERVER, sandbox: { write: [join(dataDir, "scratch")] } },
        // The machine's temp dir writable (tools that work on temp files): the syscall filter's folder is in it.
        tmpwriter: { ...MCP_REACH_SERVER, sandbox: { write: [tmpdir()] } },
      },
    }) as McpConfig;
    host = new McpToolHost(config, {
      log: SILENT_MCP_LOG,
      env: { HOME: home, PATH: process.env.PATH, LISTED_VAR: "listed-value", UNLISTED_VAR: "unlisted-value" },
      dataDir,
    });
  });

  after(async () => {
    await host?.close();
    await new Promise((resolve) => listener?.close(resolve));
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("does its job in its cwd and in the paths it is given", async () => {
    assert.equal(await output("box", "cwd"), project);
    assert.equal(await output("box", "read_file", { path: "notes.txt" }), "project notes");
    assert.equal(await output("box", "read_file", { path: join(docs, "readme.txt") }), "the docs");
    await output("box", "write_file", { path: "made-here.txt", text: "in the cwd" });
    assert.equal(readFileSync(join(project, "made-here.txt"), "utf8"), "in the cwd");
    await output("box", "write_file", { path: join(out, "result.txt"), text: "a result" });
    assert.equal(readFileSync(join(out, "result.txt"), "utf8"), "a result");
  });

  it("cannot read a key planted in the home, tandem's data dir, or the system's secrets", async () => {
    assert.match(await refusal("box", "read_file", { path: join(home, ".ssh", "id_rsa") }), /^ENOENT/);
    assert.match(await refusal("box", "read_file", { path: join(dataDir, "tandem.db") }), /^ENOENT/);
    assert.match(await refusal("box", "read_file", { path: "/etc/shadow" }), /^ENOENT/);
    // Its home exists, empty but for the folders bound into it.
    assert.deepEqual((await output("box", "list_dir", { path: home })).split("\n"), ["docs", "out", "project"]);
  });

  it("cannot write outside its cwd and writable paths: a read path, the program's own folder, the home", async () => {
    assert.match(await refusal("box", "write_file", { path: join(docs, "evil.txt"), text: "x" }), /^EROFS/);
    const script = MCP_REACH_SERVER.args.at(-1) as string;
    assert.match(await refusal("box", "write_file", { path: `${script}.evil`, text: "x" }), /^EROFS/);
    assert.equal(existsSync(`${script}.evil`), false);
    // The home and /tmp inside are its own: what it writes there never reaches this machine's.
    await output("box", "write_file", { path: join(home, ".ssh", "authorized_keys"), text: "ssh-ed25519 AAAA evil" });
    await output("box", "write_file", { path: join(root, "escaped.txt"), text: "x" });
    assert.equal(existsSync(join(home, ".ssh", "authorized_keys")), false);
    assert.equal(existsSync(join(root, "escaped.txt")), false);
  });

  it("cannot connect to a listener on 127.0.0.1 with the network off; can with network: true", async () => {
    assert.match(await refusal("box", "fetch_url", { url: listenerUrl }), /^ECONNREFUSED/);
    assert.equal(await output("online", "fetch_url", { url: listenerUrl }), "hello from the host");
  });

  it("sees the safe default environment and the variables listed, not the others", async () => {
    const env = JSON.parse(await output("box", "list_env")) as Record<string, string>;
    assert.equal(env.LISTED_VAR, "listed-value");
    assert.equal(env.UNLISTED_VAR, undefined);
    assert.equal(env.HOME, home);
    const allowed = new Set(["HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER", "PWD", "LISTED_VAR"]);
    assert.deepEqual(
      Object.keys(env).filter((name) => !allowed.has(name)),
      [],
    );
  });

  it("keeps tandem's data dir hidden even inside a folder it may read", async () => {
    assert.equal(await output("wide", "read_file", { path: join(home, ".ssh", "id_rsa") }), "FAKE-PRIVATE-KEY");
    assert.match(await refusal("wide", "read_file", { path: join(dataDir, "tandem.db") }), /^ENOENT/);
    assert.equal(await output("wide", "list_dir", { path: dataDir }), "");
  });

  it("cannot change the syscall filter the next sandboxes start under, even with the temp dir writable", async () => {
    const arch = filterArchOf(process.arch);
    if (arch === undefined) return;
    await output("tmpwriter", "cwd");
    // This process's filter file (the one the sandboxes above were started with).
    const file = syscallFilterFile(arch);
    const before = readFileSync(file);
    assert.deepEqual(before, syscallFilter(arch));
    assert.match(await refusal("tmpwriter", "read_file", { path: file }), /^ENOENT/, "its folder is hidden");
    // Whatever this does (inside, the folder is an empty one of its own), the machine's file stays.
    await call("tmpwriter", "write_file", { path: file, text: "an empty filter" });
    assert.deepEqual(readFileSync(file), before, "the filter is unchanged");
    // Its temp dir is the machine's otherwise: what it writes there is there.
    await output("tmpwriter", "write_file", { path: join(root, "from-the-sandbox.txt"), text: "x" });
    assert.equal(readFileSync(join(root, "from-the-sandbox.txt"), "utf8"), "x");
  });

  it("reads a path given through a symlink, at the symlink's path and its target's", async () => {
    assert.equal(await output("linked", "read_file", { path: join(home, "docs-link", "readme.txt") }), "the docs");
    assert.equal(await output("linked", "read_file", { path: join(docs, "readme.txt") }), "the docs");
    assert.match(await refusal("linked", "read_file", { path: join(home, ".ssh", "id_rsa") }), /^ENOENT/);
  });

  it("leaves a server without sandbox unconfined, and says which is which in status", async () => {
    assert.equal(await output("plain", "read_file", { path: join(home, ".ssh", "id_rsa") }), "FAKE-PRIVATE-KEY");
    const status = Object.fromEntries(host.status().servers.map((s) => [s.label, s.sandbox]));
    assert.deepEqual(status, {
      box: { state: "confined", network: false, ...DEFAULT_PROCESS_LIMIT_STATUS, ...FILTER },
      online: { state: "confined", network: true, ...DEFAULT_PROCESS_LIMIT_STATUS, ...FILTER },
      wide: { state: "confined", network: false, ...DEFAULT_PROCESS_LIMIT_STATUS, ...FILTER },
      linked: { state: "confined", network: false, ...DEFAULT_PROCESS_LIMIT_STATUS, ...FILTER },
      plain: { state: "off" },
      small: { state: "confined", network: false, memoryMiB: 256, ...DEFAULT_PROCESS_LIMIT_STATUS, ...FILTER },
      missing: {
        state: "failed",
        reason: `mcp.servers.missing.sandbox.read[0]: '~/not-there' (${join(home, "not-there")}) does not exist: create it, or remove it from the list`,
      },
      indata: {
        state: "failed",
        reason: `mcp.servers.indata.sandbox.write[0]: '${join(dataDir, "scratch")}' is inside tandem's data dir (${dataDir}), which no sandboxed server may reach`,
      },
      tmpwriter: { state: "confined", network: false, ...DEFAULT_PROCESS_LIMIT_STATUS, ...FILTER },
    });
  });

  it("runs under the syscall filter: the kernel counts one more filter than the unconfined server has", async () => {
    const filters = (status: string) => Number(/^Seccomp_filters:\s+(\d+)$/m.exec(status)?.[1]);
    const boxed = await output("box", "read_file", { path: "/proc/self/status" });
    const plain = await output("plain", "read_file", { path: "/proc/self/status" });
    assert.ok(Number.isInteger(filters(plain)), plain);
    // 2: SECCOMP_MODE_FILTER; the one filter more is the one tandem gave bubblewrap.
    if (FILTER.syscallFilter) {
      assert.match(boxed, /^Seccomp:\s+2$/m);
      assert.equal(filters(boxed), filters(plain) + 1);
    } else assert.equal(filters(boxed), filters(plain));
  });

  it("holds a server to its memoryMiB: an allocation past it fails, the server goes on", async () => {
    assert.equal(await output("small", "allocate", { mib: 64 }), "holding 64 MiB");
    assert.match(await refusal("small", "allocate", { mib: 512 }), /allocation failed/i);
    // Unlimited, the same allocation succeeds.
    assert.match(await output("box", "allocate", { mib: 512 }), /holding 512 MiB/);
  });

  it("is not started when its sandbox cannot be built as configured, and says which field is wrong", async () => {
    const missing = await refusal("missing", "read_file", { path: "/etc/hostname" });
    assert.equal(
      missing,
      `MCP server 'missing' is not started: its sandbox cannot be built: mcp.servers.missing.sandbox.read[0]: '~/not-there' (${join(home, "not-there")}) does not exist: create it, or remove it from the list`,
    );
    assert.match(
      await refusal("indata", "list_env"),
      /is not started: its sandbox cannot be built: .* is inside tandem's data dir/,
    );
    // Once the path exists, the next start works (no restart needed).
    await mkdir(join(home, "not-there"));
    assert.equal(await output("missing", "cwd"), "/tmp");
    assert.deepEqual(host.status().servers.find((s) => s.label === "missing")?.sandbox, {
      state: "confined",
      network: false,
      ...DEFAULT_PROCESS_LIMIT_STATUS,
      ...FILTER,
    });
  });
});
