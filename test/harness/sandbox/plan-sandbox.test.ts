/**
 * planSandbox: what a sandbox holds and in which order bubblewrap is told to build it, and the
 * errors a sandbox that cannot be built as configured gets (each naming its field). Pure file-system
 * work on a temp tree: bubblewrap is not needed.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { bubblewrapArgs, planSandbox, SandboxError, type SandboxRequest } from "../../../src/harness/sandbox/index.js";

let root: string;
let home: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "tandem-plan-"));
  home = join(root, "home");
  for (const dir of ["project", "docs/deep", "out", ".local/share/tandem", "tools/app/bin", "tools/app/lib"]) {
    await mkdir(join(home, dir), { recursive: true });
  }
  await writeFile(join(home, "tools/app/package.json"), "{}");
  await writeFile(join(home, "tools/app/lib/server.js"), "");
  await writeFile(join(home, "tools/app/bin/app"), "#!/usr/bin/env node\n", { mode: 0o755 });
  await symlink(join(home, "docs"), join(home, "docs-link"));
  await symlink(join(home, "nowhere"), join(home, "dangling"));
  await symlink(join(home, ".local/share/tandem"), join(home, "data-link"));
});

after(() => rm(root, { recursive: true, force: true }));

function request(overrides: Partial<SandboxRequest> = {}): SandboxRequest {
  return {
    where: "mcp.servers.box",
    command: process.execPath,
    args: [],
    network: false,
    read: [],
    readFrom: "mcp.servers.box.sandbox",
    write: [],
    writeFrom: "mcp.servers.box.sandbox",
    path: process.env.PATH,
    home,
    base: root,
    hidden: [{ path: join(home, ".local/share/tandem"), what: "tandem's data dir" }],
    ...overrides,
  };
}

/** The mounts after the system's, as `kind dest` lines (and the source when it differs). */
async function userMounts(overrides: Partial<SandboxRequest>): Promise<string[]> {
  const plan = await planSandbox(request(overrides));
  return plan.mounts
    .filter((m) => m.dest.startsWith(root))
    .map((m) => {
      const dest = m.dest.replace(root, "R");
      if (m.kind === "symlink") return `symlink ${dest} -> ${m.target.replace(root, "R")}`;
      return m.kind === "tmpfs" ? `tmpfs ${dest}` : `${m.kind} ${dest}`;
    });
}

async function planError(overrides: Partial<SandboxRequest>): Promise<string> {
  try {
    await planSandbox(request(overrides));
  } catch (err) {
    assert.ok(err instanceof SandboxError && err.kind === "setup", String(err));
    return err.message.replaceAll(root, "R");
  }
  assert.fail("expected the plan to be refused");
}

describe("planSandbox", () => {
  it("mounts an empty home, then binds from the shallowest down, then symlinks, then hides the data dir", async () => {
    const mounts = await userMounts({
      cwd: "~/project",
      read: ["~", "home/docs-link"],
      write: ["~/docs/deep"],
    });
    assert.deepEqual(mounts, [
      "tmpfs R/home",
      "ro-bind R/home",
      "ro-bind R/home/docs",
      "bind R/home/project",
      "bind R/home/docs/deep",
      "tmpfs R/home/.local/share/tandem",
    ]);
  });

  it("binds a path given through a symlink at its target, with the symlink left at the path given", async () => {
    assert.deepEqual(await userMounts({ read: ["home/docs-link"] }), [
      "tmpfs R/home",
      "ro-bind R/home/docs",
      "symlink R/home/docs-link -> R/home/docs",
    ]);
  });

  it("gives a script's package folder and its command read-only, and starts in /tmp without a cwd", async () => {
    const plan = await planSandbox(request({ command: join(home, "tools/app/bin/app"), args: ["--flag", "lib/server.js"] }));
    assert.equal(plan.cwd, "/tmp");
    const mounts = plan.mounts.filter((m) => m.dest.startsWith(root)).map((m) => `${m.kind} ${m.dest.replace(root, "R")}`);
    // The install prefix above bin/ (which is also the script's package folder); node's own folder is the system's.
    assert.deepEqual(mounts, ["tmpfs R/home", "ro-bind R/home/tools/app"]);
    assert.equal(plan.command, join(home, "tools/app/bin/app"));
    const args = bubblewrapArgs(plan, { unshareUser: true, disableUserns: true });
    assert.deepEqual(args.slice(0, 4), ["--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent"]);
    assert.ok(!args.includes("--share-net"));
    assert.deepEqual(args.slice(args.indexOf("--chdir")), [
      "--chdir",
      "/tmp",
      "--",
      join(home, "tools/app/bin/app"),
      "--flag",
      "lib/server.js",
    ]);
  });

  it("gives a project right in the home as a package, a loose script there as the file alone", async () => {
    await mkdir(join(home, "my-server"));
    await writeFile(join(home, "my-server", "package.json"), "{}");
    await writeFile(join(home, "my-server", "server.js"), "");
    await mkdir(join(home, "Downloads"));
    await writeFile(join(home, "Downloads", "server.js"), "");
    assert.deepEqual(await userMounts({ args: [join(home, "my-server", "server.js")] }), [
      "tmpfs R/home",
      "ro-bind R/home/my-server",
    ]);
    assert.deepEqual(await userMounts({ args: [join(home, "Downloads", "server.js")] }), [
      "tmpfs R/home",
      "ro-bind R/home/Downloads/server.js",
    ]);
  });

  it("shares the network, with the resolver's files, only when asked", async () => {
    const off = await planSandbox(request());
    const on = await planSandbox(request({ network: true }));
    assert.equal(
      off.mounts.some((m) => m.dest === "/etc/resolv.conf"),
      false,
    );
    assert.equal(
      on.mounts.some((m) => m.dest === "/etc/resolv.conf"),
      existsSync("/etc/resolv.conf"),
    );
    assert.ok(bubblewrapArgs(on, { unshareUser: true, disableUserns: false }).includes("--share-net"));
    assert.ok(!bubblewrapArgs(on, { unshareUser: true, disableUserns: false }).includes("--disable-userns"));
  });

  it("refuses a path that does not exist, a dangling symlink, and a path in the data dir, naming the field", async () => {
    assert.equal(
      await planError({ read: ["~/docs", "~/missing"] }),
      "mcp.servers.box.sandbox.read[1]: '~/missing' (R/home/missing) does not exist: create it, or remove it from the list",
    );
    assert.equal(
      await planError({ write: ["~/dangling"], writeFrom: "mcp.sandbox" }),
      "mcp.sandbox.write[0]: '~/dangling' (R/home/dangling) is a symlink to a path that does not exist: create it, or remove it from the list",
    );
    assert.equal(
      await planError({ cwd: "~/.local/share/tandem" }),
      "mcp.servers.box.cwd: '~/.local/share/tandem' is inside tandem's data dir (R/home/.local/share/tandem), which no sandboxed server may reach",
    );
    // Through a symlink too: what counts is where it leads.
    assert.match(
      await planError({ read: ["~/data-link"] }),
      /^mcp\.servers\.box\.sandbox\.read\[0\]: '~\/data-link' is inside tandem's data dir/,
    );
    assert.match(await planError({ read: ["~other/x"] }), /only '~\/' \(your own home\) is understood/);
    assert.match(
      await planError({ read: ["/tmp/.."] }),
      /^mcp\.servers\.box\.sandbox\.read\[0\]: '\/tmp\/\.\.' is the whole file system/,
    );
  });

  it("never follows a symlink the server could have made (inside a path it may write) to a place it is not given", async () => {
    // The server's cwd holds its script; it made node_modules a symlink to / and a folder a link to the home.
    const work = join(root, "work");
    await mkdir(join(work, "inner"), { recursive: true });
    await writeFile(join(work, "package.json"), "{}");
    await writeFile(join(work, "server.js"), "");
    await symlink("/", join(work, "node_modules"));
    await symlink(home, join(work, "docs"));
    assert.equal(
      await planError({ cwd: work, read: [join(work, "docs")] }),
      "mcp.servers.box.sandbox.read[0]: 'R/work/docs' leads to R/home, through R/work, which the server may write (it could have made that symlink): give R/home itself instead",
    );
    assert.equal(
      await planError({ cwd: work, args: ["server.js"] }),
      "mcp.servers.box.command: the program needs /, found through R/work, which the server may write (it could have put a symlink or a script there): list / under sandbox.read if it is meant",
    );
    // Outside a writable path too, a program's needs are never the whole file system or the home.
    const tool = join(root, "tool");
    await mkdir(tool);
    await writeFile(join(tool, "package.json"), "{}");
    await writeFile(join(tool, "server.js"), "");
    await symlink("/", join(tool, "node_modules"));
    assert.equal(
      await planError({ args: [join(tool, "server.js")] }),
      "mcp.servers.box.command: the program needs /, which leads to /: too wide to give by itself; list what it needs under sandbox.read",
    );
    // A path inside a writable one that leads where it already is, or to a path given, is fine.
    await planSandbox(request({ cwd: work, read: [join(work, "inner")] }));
    await planSandbox(request({ cwd: work, read: [join(work, "docs"), "~"] }));
  });

  it("refuses a command it cannot find or run", async () => {
    assert.equal(
      await planError({ command: "no-such-mcp-server-here" }),
      "mcp.servers.box.command: 'no-such-mcp-server-here' is not found on PATH",
    );
    assert.match(
      await planError({ command: "./missing.sh" }),
      /^mcp\.servers\.box\.command: '\.\/missing\.sh' is not an executable file/,
    );
  });
});
