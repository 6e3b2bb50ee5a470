import { BLOCKED_SYSCALLS } from "./blocked-syscalls.js";

/** The architectures a filter is built for (Node's `process.arch` names). */
export type FilterArch = keyof typeof BLOCKED_SYSCALLS;

// Classic BPF as the kernel's seccomp reads it (linux/filter.h, linux/seccomp.h, linux/audit.h).
const LD_W_ABS = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JEQ_K = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JGE_K = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const RET_K = 0x06; // BPF_RET | BPF_K
const RET_ALLOW = 0x7fff0000;
const RET_KILL_PROCESS = 0x80000000;
const RET_ERRNO_EPERM = 0x00050000 | 1;
/** struct seccomp_data: the call's number, then its architecture. */
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
const AUDIT_ARCH: Record<FilterArch, number> = { x64: 0xc000003e, arm64: 0xc00000b7 };
/** x86_64's x32 calls carry this bit: same architecture, other numbers, so all of them are refused. */
const X32_SYSCALL_BIT = 0x40000000;

type Instruction = [code: number, jt: number, jf: number, k: number];

/** Whether a filter can be built for this architecture. */
export function filterArchOf(arch: string): FilterArch | undefined {
  return arch === "x64" || arch === "arm64" ? arch : undefined;
}

/**
 * The seccomp program (struct sock_filter[], as bubblewrap's `--seccomp FD` reads it) that refuses the
 * blocked calls with EPERM and allows every other; a call of another architecture (32-bit code on a
 * 64-bit kernel, whose numbers differ) ends the process, as does x86_64's x32 ABI.
 */
export function syscallFilter(arch: FilterArch): Buffer {
  const numbers = [...new Set(Object.values(BLOCKED_SYSCALLS[arch]))].sort((a, b) => a - b);
  const program: Instruction[] = [
    [LD_W_ABS, 0, 0, OFFSET_ARCH],
    [JEQ_K, 1, 0, AUDIT_ARCH[arch]],
    [RET_K, 0, 0, RET_KILL_PROCESS],
    [LD_W_ABS, 0, 0, OFFSET_NR],
  ];
  if (arch === "x64") {
    program.push([JGE_K, 0, 1, X32_SYSCALL_BIT], [RET_K, 0, 0, RET_KILL_PROCESS]);
  }
  // Each comparison jumps, when it matches, over the ones after it and the allow to the refusal.
  numbers.forEach((nr, i) => {
    program.push([JEQ_K, numbers.length - i, 0, nr]);
  });
  program.push([RET_K, 0, 0, RET_ALLOW], [RET_K, 0, 0, RET_ERRNO_EPERM]);
  // Both architectures are little-endian here (node runs on arm64 Linux little-endian only).
  const out = Buffer.alloc(program.length * 8);
  program.forEach(([code, jt, jf, k], i) => {
    out.writeUInt16LE(code, i * 8);
    out.writeUInt8(jt, i * 8 + 2);
    out.writeUInt8(jf, i * 8 + 3);
    out.writeUInt32LE(k, i * 8 + 4);
  });
  return out;
}
