/**
 * A sandboxed stdio server's process limit (`sandbox.maxProcesses`, default 512): RLIMIT_NPROC set by
 * `prlimit` inside the sandbox's own user namespace, where the kernel counts the sandbox's processes
 * alone. Where it cannot be set (no user namespace of its own, tandem runs as root, no prlimit in the
 * system folders) the default is left out and status says why, and a configured limit keeps the
 * server from starting. The kernel's side is shown for real: a fork bomb in a sandbox stops at the
 * limit while the user already runs more processes than that outside it (as `nobody` when the test
 * runs as root, whose processes the kernel never limits).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import type { McpSandboxConfig } from "../../../../src/config/index.js";
import {
  bubblewrapArgs,
  checkBubblewrap,
  findExecutable,
  planSandbox,
  processLimitSupport,
  type SandboxAvailability,
  withProcessLimit,
} from "../../../../src/harness/sandbox/index.js";
import { SILENT_MCP_LOG } from "../../../../src/harness/tools/mcp/index.js";
import { DEFAULT_MAX_PROCESSES, McpSandbox } from "../../../../src/harness/tools/mcp/mcp-sandbox.js";

const run = promisify(execFile);
const bwrap = process.platform === "linux" ? await findExecutable("bwrap", process.env.PATH) : undefined;
const prlimit = process.platform === "linux" ? await findExecutable("prlimit", process.env.PATH) : undefined;
const setpriv = process.platform === "linux" ? await findExecutable("setpriv", process.env.PATH) : undefined;
// The system's own, which another user can run (not a version manager's in a home).
const python = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : undefined;
const skip =
  bwrap === undefined || prlimit === undefined
    ? "needs bubblewrap and util-linux's prlimit on Linux (apt install bubblewrap util-linux)"
    : false;

const NOBODY = 65534;
const USER_NS = { unshareUser: true, disableUserns: false };

describe("which machines can limit a sandbox's processes", () => {
  it("needs a user namespace of the sandbox's own: outside one the limit would count all the user's processes", async () => {
    const support = await processLimitSupport({ unshareUser: false, disableUserns: false }, { path: "/usr/bin", uid: 1000 });
    assert.equal(support.ok, false);
    assert.match(support.ok ? "" : support.reason, /user namespace of its own/);
  });

  it("sets nothing under root, whose processes the kernel does not limit", async () => {
    assert.deepEqual(await processLimitSupport(USER_NS, { path: "/usr/bin:/bin", uid: 0 }), {
      ok: false,
      reason: "tandem runs as root, whose processes the kernel does not limit",
    });
  });

  it("needs prlimit in the system's program folders, which every sandbox can read", async (t) => {
    const empty = await mkdtemp(join(tmpdir(), "tandem-noprlimit-"));
    t.after(() => rm(empty, { recursive: true, force: true }));
    const support = await processLimitSupport(USER_NS, { path: empty, uid: 1000 });
    assert.equal(support.ok, false);
    assert.match(support.ok ? "" : support.reason, /prlimit is not found/);
  });

  it("starts the program under prlimit --nproc, its arguments unchanged", () => {
    const plan = { command: "/usr/bin/node", args: ["server.js", "--x"], cwd: "/tmp", network: false, mounts: [] };
    assert.deepEqual(withProcessLimit(plan, 40, "/usr/bin/prlimit"), {
      ...plan,
      command: "/usr/bin/prlimit",
      args: ["--nproc=40:40", "--", "/usr/bin/node", "server.js", "--x"],
    });
  });
});

describe("an MCP server's sandbox with a process limit", { skip }, () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(join(tmpdir(), "tandem-nproc-home-"));
  });
  after(() => rm(home, { recursive: true, force: true }));

  const server = (sandbox: Partial<McpSandboxConfig>) => ({
    command: "/bin/sh",
    args: ["-c", "exit 0"],
    env: {},
    sandbox: { network: false, read: [], write: [], env: [], from: { read: "", write: "", env: "" }, ...sandbox },
  });
  const sandboxAs = (uid: number) => new McpSandbox({ env: { HOME: home, PATH: process.env.PATH }, uid, log: SILENT_MCP_LOG });
  /** The program bubblewrap runs: everything after its `--`. */
  const inside = (args: string[]) => args.slice(args.lastIndexOf("--") + 1);

  it("runs the server under the default limit, or the configured one, and says which in status", async () => {
    const sandbox = sandboxAs(NOBODY);
    const plain = await sandbox.endpoint("plain", server({}), {});
    const expected = (n: number) => [prlimit, `--nproc=${n}:${n}`, "--", "/bin/sh", "-c", "exit 0"];
    assert.deepEqual(plain.endpoint.args.slice(-6), expected(DEFAULT_MAX_PROCESSES));
    const small = await sandbox.endpoint("small", server({ maxProcesses: 40 }), {});
    assert.deepEqual(small.endpoint.args.slice(-6), expected(40));
    assert.equal(sandbox.status("plain", server({}).sandbox).state, "confined");
    assert.equal((sandbox.status("plain", server({}).sandbox) as { maxProcesses?: number }).maxProcesses, 512);
    assert.equal((sandbox.status("small", server({ maxProcesses: 40 }).sandbox) as { maxProcesses?: number }).maxProcesses, 40);
  });

  it("under root: leaves the default out and says why; does not start a server whose limit was asked for", async () => {
    const sandbox = sandboxAs(0);
    const plain = await sandbox.endpoint("plain", server({}), {});
    assert.ok(!plain.endpoint.args.includes(prlimit as string), JSON.stringify(plain.endpoint.args));
    assert.deepEqual(inside(plain.endpoint.args), ["/bin/sh", "-c", "exit 0"]);
    const status = sandbox.status("plain", server({}).sandbox) as { maxProcesses?: number; noProcessLimit?: string };
    assert.equal(status.maxProcesses, undefined);
    assert.equal(status.noProcessLimit, "tandem runs as root, whose processes the kernel does not limit");
    await assert.rejects(sandbox.endpoint("small", server({ maxProcesses: 40 }), {}), {
      name: "SandboxError",
      message:
        "mcp.servers.small: sandbox.maxProcesses cannot be applied here: tandem runs as root, whose processes the kernel does not limit; remove it to run the server without a process limit",
    });
  });
});

/**
 * The kernel's side: a program in a sandbox limited to `limit`, built with the same plan and arguments
 * tandem builds, tries to start `count` processes while the user already runs `outside` processes
 * outside it. Answers how many starts succeeded and how many the kernel refused (EAGAIN).
 */
async function sandboxedBomb(limit: number, count: number, outside: number): Promise<{ started: number; refused: number }> {
  const availability = (await checkBubblewrap({ path: process.env.PATH })) as SandboxAvailability & { ok: true };
  assert.ok(availability.ok);
  const features = { ...availability.features, syscallFilter: undefined };
  const bomb = [
    "import os, time",
    "started = refused = 0",
    `for _ in range(${count}):`,
    "    try:",
    "        pid = os.fork()",
    "    except BlockingIOError:",
    "        refused += 1",
    "        continue",
    "    if pid == 0:",
    "        time.sleep(3)",
    "        os._exit(0)",
    "    started += 1",
    "print(started, refused)",
  ].join("\n");
  const plan = await planSandbox({
    where: "test",
    command: python as string,
    args: ["-c", bomb],
    network: false,
    read: [],
    readFrom: "",
    write: [],
    writeFrom: "",
    path: process.env.PATH,
    home: undefined,
    base: "/",
    hidden: [],
  });
  const sandboxed = [bwrap as string, ...bubblewrapArgs(withProcessLimit(plan, limit, prlimit as string), features)];
  // The user's other processes, outside the sandbox: more than the limit.
  const wrapper = `i=0; while [ $i -lt ${outside} ]; do sleep 6 & i=$((i+1)); done; "$@"; kill $(jobs -p) 2>/dev/null; true`;
  const asUser = process.getuid?.() === 0 ? [setpriv as string, `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups"] : [];
  const [command, ...args] = [...asUser, "/bin/sh", "-c", wrapper, "bomb", ...sandboxed];
  const { stdout } = await run(command as string, args, { timeout: 30_000 });
  const [started, refused] = stdout.trim().split(/\s+/).map(Number);
  return { started: started as number, refused: refused as number };
}

const kernelSkip =
  skip ||
  (python === undefined
    ? "needs /usr/bin/python3 (its fork is the bomb)"
    : process.getuid?.() === 0 && setpriv === undefined
      ? "needs setpriv (util-linux) to run as another user than root"
      : false);

describe("the kernel holds a sandbox to its process limit", { skip: kernelSkip }, () => {
  it("a fork bomb stops at the limit, while the user's processes outside the sandbox do not count", async () => {
    // 30 processes outside, a limit of 20 inside: the sandbox still starts, and stops forking near 20
    // (the sandbox's init and the program itself count too).
    const limited = await sandboxedBomb(20, 60, 30);
    assert.ok(limited.started >= 10 && limited.started < 20, JSON.stringify(limited));
    assert.equal(limited.started + limited.refused, 60);
    assert.deepEqual(await sandboxedBomb(200, 60, 30), { started: 60, refused: 0 });
  });
});
