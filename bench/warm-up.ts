/**
 * How tandem warms up: sequential non-streamed chat completions (the request of `npm run bench`'s
 * overhead figures) to a fresh tandem, its CPU time per request and the client's wall time per
 * request for each window of BENCH_WARMUP_WINDOW requests (default 1000), BENCH_WARMUP_WINDOWS
 * windows (default 10). CPU is read per thread from /proc (Linux only): tandem's main thread, and all
 * its other threads together (V8's compiler and GC helpers, the store's worker, libuv's pool).
 *
 *   npm run build && npx tsx bench/warm-up.ts
 *
 * BENCH_TANDEM_NODE_ARGS adds node options to tandem's process (e.g. V8 flags to compare);
 * BENCH_DIST runs another build's tandem (e.g. one from before a change, built in a git worktree).
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "undici";
import { benchTandemConfig, children, start, startBenchTandem, timedChat } from "./servers.js";

const WINDOW = Number(process.env.BENCH_WARMUP_WINDOW ?? 1000);
const WINDOWS = Number(process.env.BENCH_WARMUP_WINDOWS ?? 10);
const TICK_MS = 1000 / 100; // USER_HZ

/** CPU ms of each thread of `pid` so far, by thread id. */
function threadCpuMs(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    } catch {
      continue; // The thread ended meanwhile.
    }
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    out.set(Number(tid), (Number(fields[11]) + Number(fields[12])) * TICK_MS);
  }
  return out;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tandem-warm-up-"));
  const up = await start(["--import", "tsx", join(import.meta.dirname, "upstream.ts")], {});
  const tandem = await startBenchTandem(dir, benchTandemConfig(`http://127.0.0.1:${up.port}`, join(dir, "data")), {
    nodeArgs: (process.env.BENCH_TANDEM_NODE_ARGS ?? "").split(" ").filter(Boolean),
    ...(process.env.BENCH_DIST && { dist: process.env.BENCH_DIST }),
  });
  const pid = tandem.child.pid as number;
  const pool = new Pool(`http://127.0.0.1:${tandem.port}`, { connections: 1 });
  const body = JSON.stringify({
    model: "up/bench",
    messages: [{ role: "user", content: "Say something short." }],
    stream: false,
    max_tokens: 64,
  });
  process.stdout.write("| requests | main thread CPU ms/req | other threads CPU ms/req | wall ms/req |\n|---|---|---|---|\n");
  let before = threadCpuMs(pid);
  for (let w = 0; w < WINDOWS; w++) {
    const t0 = performance.now();
    for (let i = 0; i < WINDOW; i++) await timedChat(pool, "tandem", body);
    const wall = performance.now() - t0;
    const after = threadCpuMs(pid);
    let main = 0;
    let other = 0;
    for (const [tid, ms] of after) {
      const spent = ms - (before.get(tid) ?? 0);
      if (tid === pid) main += spent;
      else other += spent;
    }
    before = after;
    const row = [`${w * WINDOW}–${(w + 1) * WINDOW}`, main / WINDOW, other / WINDOW, wall / WINDOW];
    process.stdout.write(`| ${row.map((v) => (typeof v === "number" ? v.toFixed(3) : v)).join(" | ")} |\n`);
  }
  await pool.close();
}

main()
  .catch((err: Error) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const child of children) child.kill("SIGTERM");
  });
