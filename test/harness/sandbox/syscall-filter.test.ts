/**
 * The sandbox's syscall filter: its program read by a small classic-BPF interpreter (what each call
 * number and architecture gets), its tables against the kernel headers where they are installed, and
 * the kernel enforcing it on a real program in bubblewrap (Python's ctypes makes the raw calls; skipped,
 * saying why, without bubblewrap or Python).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { BLOCKED_SYSCALLS } from "../../../src/harness/sandbox/blocked-syscalls.js";
import { bubblewrapCommand, findExecutable } from "../../../src/harness/sandbox/index.js";
import { type FilterArch, filterArchOf, syscallFilter } from "../../../src/harness/sandbox/syscall-filter.js";
import { restoreSyscallFilterFile, syscallFilterFile } from "../../../src/harness/sandbox/syscall-filter-file.js";

const ALLOW = 0x7fff0000;
const KILL_PROCESS = 0x80000000;
const EPERM = 0x00050001;
const AUDIT_ARCH = { x64: 0xc000003e, arm64: 0xc00000b7, i386: 0x40000003 };

/** Runs a seccomp program (the subset of classic BPF it uses) on one call: what the kernel would return. */
function run(program: Buffer, nr: number, arch: number): number {
  const data = [nr >>> 0, arch >>> 0];
  let acc = 0;
  for (let pc = 0; pc < program.length / 8; ) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    if (code === 0x20) {
      acc = data[k / 4] as number;
      pc++;
    } else if (code === 0x15) pc += 1 + (acc === k ? jt : jf);
    else if (code === 0x35) pc += 1 + (acc >= k ? jt : jf);
    else if (code === 0x06) return k;
    else throw new Error(`unexpected instruction ${code.toString(16)}`);
  }
  throw new Error("ran off the end of the program");
}

describe("the syscall filter's program", () => {
  for (const arch of ["x64", "arm64"] as FilterArch[]) {
    it(`${arch}: refuses every blocked call with EPERM, allows the others`, () => {
      const program = syscallFilter(arch);
      const blocked = new Set(Object.values(BLOCKED_SYSCALLS[arch]));
      for (const nr of blocked) assert.equal(run(program, nr, AUDIT_ARCH[arch]), EPERM, `call ${nr}`);
      for (let nr = 0; nr < 600; nr++) {
        if (!blocked.has(nr)) assert.equal(run(program, nr, AUDIT_ARCH[arch]), ALLOW, `call ${nr}`);
      }
    });
    it(`${arch}: ends a process that makes a call of another architecture`, () => {
      const program = syscallFilter(arch);
      assert.equal(run(program, 0, AUDIT_ARCH.i386), KILL_PROCESS);
      assert.equal(run(program, 0, arch === "x64" ? AUDIT_ARCH.arm64 : AUDIT_ARCH.x64), KILL_PROCESS);
    });
  }
  it("x64: ends a process that uses the x32 ABI (same architecture, numbers with bit 30 set)", () => {
    const program = syscallFilter("x64");
    assert.equal(run(program, 0x40000000 + 39, AUDIT_ARCH.x64), KILL_PROCESS);
    assert.equal(run(program, 0x40000000 + 250, AUDIT_ARCH.x64), KILL_PROCESS);
  });
  it("is built only for the architectures it has a table for", () => {
    assert.equal(filterArchOf("x64"), "x64");
    assert.equal(filterArchOf("arm64"), "arm64");
    assert.equal(filterArchOf("riscv64"), undefined);
    assert.equal(filterArchOf("ia32"), undefined);
  });
});

describe("the syscall filter's file", () => {
  it("is written once per process, in a folder only this user can enter, and again when a temp cleaner removed it", () => {
    const file = syscallFilterFile("arm64");
    assert.equal(syscallFilterFile("arm64"), file);
    assert.deepEqual(readFileSync(file), syscallFilter("arm64"));
    assert.equal(statSync(dirname(file)).mode & 0o077, 0, "no one else enters its folder");
    rmSync(dirname(file), { recursive: true });
    restoreSyscallFilterFile(file);
    assert.deepEqual(readFileSync(file), syscallFilter("arm64"));
    assert.equal(statSync(dirname(file)).mode & 0o077, 0);
    const foreign = `${dirname(file)}-not-ours/filter.bpf`;
    restoreSyscallFilterFile(foreign);
    assert.equal(existsSync(foreign), false, "a path this process did not write is left alone");
  });

  // Another local user sees the folder's name in the temp dir and, once a cleaner removed it, makes it
  // again first: tandem must not write its filter where someone else can swap it, nor follow a link.
  it("is not written again into a folder another may have made in its place: open to others, a link, or a link inside", () => {
    const file = syscallFilterFile("x64");
    const folder = dirname(file);
    const elsewhere = mkdtempSync(join(tmpdir(), "tandem-test-elsewhere-"));
    const victim = join(elsewhere, "victim");
    writeFileSync(victim, "untouched");
    const attempts: Array<[string, () => void]> = [
      [
        "a folder others may write",
        () => {
          mkdirSync(folder);
          chmodSync(folder, 0o777);
        },
      ],
      ["a link to another folder", () => symlinkSync(elsewhere, folder)],
      [
        "a link in the file's place",
        () => {
          mkdirSync(folder, { mode: 0o700 });
          symlinkSync(victim, file);
        },
      ],
    ];
    if (process.getuid?.() === 0) {
      attempts.push([
        "a folder of another user",
        () => {
          mkdirSync(folder, { mode: 0o700 });
          chownSync(folder, 65534, 65534);
        },
      ]);
    }
    try {
      for (const [what, plant] of attempts) {
        rmSync(folder, { recursive: true, force: true });
        plant();
        assert.throws(() => restoreSyscallFilterFile(file), /syscall filter/, what);
        assert.equal(readFileSync(victim, "utf8"), "untouched", `${what}: the link was not followed`);
        assert.equal(existsSync(join(elsewhere, basename(file))), false, `${what}: nothing written through the link`);
      }
      // Gone again, with nothing in its place: written again, privately.
      rmSync(folder, { recursive: true, force: true });
      restoreSyscallFilterFile(file);
      assert.deepEqual(readFileSync(file), syscallFilter("x64"));
      assert.equal(lstatSync(folder).mode & 0o077, 0);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

/** `#define __NR_<name> <number>` lines of a kernel header (asm-generic also writes __NR3264_). */
function headerNumbers(path: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of readFileSync(path, "utf8").matchAll(/^#define __NR(?:3264)?_(\w+)\s+(\d+)\s*$/gm)) {
    out.set(m[1] as string, Number(m[2]));
  }
  return out;
}

describe("the syscall tables", () => {
  const headers: Record<FilterArch, string> = {
    x64: "/usr/include/x86_64-linux-gnu/asm/unistd_64.h",
    arm64: "/usr/include/asm-generic/unistd.h",
  };
  for (const arch of ["x64", "arm64"] as FilterArch[]) {
    const header = headers[arch];
    it(`${arch}: every number is the kernel header's`, {
      skip: existsSync(header) ? false : `needs ${header} (linux-libc-dev)`,
    }, () => {
      const numbers = headerNumbers(header);
      for (const [name, nr] of Object.entries(BLOCKED_SYSCALLS[arch])) assert.equal(numbers.get(name), nr, name);
    });
  }
});

const bwrap = process.platform === "linux" ? await findExecutable("bwrap", process.env.PATH) : undefined;
/** The Python binary itself (not a shim script, as pyenv puts on PATH). */
async function pythonBinary(): Promise<string | undefined> {
  if ((await findExecutable("python3", process.env.PATH)) === undefined) return undefined;
  const { stdout } = await promisify(execFile)("python3", ["-c", "import sys; print(sys.executable)"]);
  return realpathSync(stdout.trim());
}
const python = await pythonBinary().catch(() => undefined);
const arch = filterArchOf(process.arch);
const skipKernel =
  bwrap === undefined
    ? "needs bubblewrap (bwrap) on Linux"
    : python === undefined
      ? "needs python3 (its ctypes makes the raw calls)"
      : arch === undefined
        ? `no syscall table for ${process.arch}`
        : false;

describe("the kernel enforcing the filter in bubblewrap", { skip: skipKernel }, () => {
  it("refuses bpf, keyctl, io_uring_setup and userfaultfd with EPERM; getpid still works", async () => {
    const filterArch = arch as FilterArch;
    const table = BLOCKED_SYSCALLS[filterArch];
    const calls = { bpf: table.bpf, keyctl: table.keyctl, io_uring_setup: table.io_uring_setup, userfaultfd: table.userfaultfd };
    const script = [
      "import ctypes, json, sys",
      "libc = ctypes.CDLL(None, use_errno=True)",
      "out = {}",
      "for name, nr in json.loads(sys.argv[1]).items():",
      "    ctypes.set_errno(0)",
      "    r = libc.syscall(nr, 0, 0, 0, 0)",
      "    out[name] = ctypes.get_errno() if r == -1 else 'ok'",
      "out['getpid'] = 'ok' if libc.getpid() > 0 else 'failed'",
      "print(json.dumps(out))",
    ].join("\n");
    const args = ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--seccomp", "3"];
    args.push(
      "--ro-bind",
      "/",
      "/",
      "--proc",
      "/proc",
      "--dev",
      "/dev",
      "--",
      python as string,
      "-c",
      script,
      JSON.stringify(calls),
    );
    const features = { unshareUser: false, disableUserns: false, syscallFilter: syscallFilterFile(filterArch) };
    const command = bubblewrapCommand(bwrap as string, args, features);
    const { stdout } = await promisify(execFile)(command.command, command.args, { env: { PATH: dirname(python as string) } });
    assert.deepEqual(JSON.parse(stdout), { bpf: 1, keyctl: 1, io_uring_setup: 1, userfaultfd: 1, getpid: "ok" });
  });

  it("runs nothing when the filter's file cannot be opened (never unfiltered)", async () => {
    const features = { unshareUser: false, disableUserns: false, syscallFilter: "/nonexistent/filter.bpf" };
    const command = bubblewrapCommand(bwrap as string, ["--ro-bind", "/", "/", "--", "/bin/echo", "ran"], features);
    await assert.rejects(promisify(execFile)(command.command, command.args), (err: { stdout?: string; code?: number }) => {
      assert.equal(err.stdout, "");
      assert.notEqual(err.code, 0);
      return true;
    });
  });
});
