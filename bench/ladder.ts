/**
 * The overhead ladder: where tandem's added latency comes from, one rung at a time, on the request
 * `npm run bench` times (a one-message chat completion the client does not stream). Each rung does
 * what the one before it does and more:
 *
 *   bare proxy          parse the body, forward it, relay the answer (bench/bare-proxy.ts)
 *   minimal             + classify for privacy, audit row on disk before the body leaves
 *                       (bench/minimal-gateway.ts: tandem's classifier and journal, nothing else)
 *   minimal, streamed   + the upstream asked for a stream, its bytes relayed unread: what streaming
 *                       from the upstream costs by itself
 *   floor, whole        tandem's own code for the request's steps on a bare node:http server, a whole
 *                       upstream answer read, tapped and answered (bench/floor-server.ts)
 *   floor, streamed     the same, the upstream streamed and its events tapped and assembled
 *   tandem, whole       tandem on a route with `streamUpstream: false`
 *   tandem              tandem as configured by default (it streams from the upstream)
 *
 * Two orders: interleaved (one request to each path in turn, as `npm run bench` does, so each
 * process's caches go cold between its requests) and in blocks (every request of a path in a row:
 * warm caches, the best case). Medians over the second half of each path's requests, ms added over a
 * direct call, and that as a multiple of the bare proxy's; then each gateway's CPU time per request under
 * load (32 connections, 3 s).
 *
 *   npm run build && npx tsx bench/ladder.ts        (BENCH_LADDER_N: requests per path, default 3000)
 */
import type { ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Pool } from "undici";
import { benchTandemConfig, children, percentile, start, startBenchTandem, timedChat } from "./servers.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const N = Number(process.env.BENCH_LADDER_N ?? 3000);
/** Connections and seconds for the CPU figure: each gateway's CPU time (all its threads) per request under load. */
const CONNECTIONS = 32;
const LOAD_SECONDS = 3;
const dir = mkdtempSync(join(tmpdir(), "tandem-ladder-"));

interface Rung {
  name: string;
  pool: Pool;
  body: string;
  /** The gateway's process (none for the direct path), for its CPU time. */
  pid?: number;
}

function body(model: string): string {
  return JSON.stringify({ model, messages: [{ role: "user", content: "Say something short." }], stream: false, max_tokens: 64 });
}

async function startRungs(upstream: string): Promise<Rung[]> {
  const dataDir = (name: string) => {
    const d = join(dir, name);
    mkdirSync(d);
    return d;
  };
  const script = (name: string) => ["--import", "tsx", join(ROOT, "bench", name)];
  const bare = await start(script("bare-proxy.ts"), { BENCH_UPSTREAM: upstream });
  const minimal = (stream: boolean) =>
    start(script("minimal-gateway.ts"), {
      BENCH_UPSTREAM: upstream,
      BENCH_FLOOR_DIR: dataDir(`minimal-${stream}`),
      BENCH_MINIMAL_STREAM: stream ? "1" : "0",
    });
  const floor = (whole: boolean) => {
    const d = dataDir(`floor-${whole}`);
    // Its log lines to a file, as tandem's go: a pipe would make this process read them.
    return start(script("floor-server.ts"), {
      BENCH_UPSTREAM: upstream,
      BENCH_FLOOR_DIR: d,
      BENCH_FLOOR_WHOLE: whole ? "1" : "0",
      BENCH_FLOOR_LOG: join(d, "floor.log"),
    });
  };
  const tandem = (whole: boolean) => {
    const d = dataDir(`tandem-${whole}`);
    const routes = whole ? ["routes:", "  whole: { tiers: [up/bench], streamUpstream: false }"] : [];
    return startBenchTandem(d, benchTandemConfig(upstream, join(d, "data"), { extra: routes }));
  };
  const rungs: [string, Promise<{ port: number; child: ChildProcess }>, string][] = [
    ["bare proxy", Promise.resolve(bare), "bench"],
    ["minimal", minimal(false), "up/bench"],
    ["minimal, streamed", minimal(true), "up/bench"],
    ["floor, whole", floor(true), "up/bench"],
    ["floor, streamed", floor(false), "up/bench"],
    ["tandem, whole", tandem(true), "whole"],
    ["tandem", tandem(false), "up/bench"],
  ];
  const out: Rung[] = [];
  for (const [name, started, model] of rungs) {
    const { port, child } = await started;
    out.push({
      name,
      pool: new Pool(`http://127.0.0.1:${port}`, { connections: CONNECTIONS }),
      body: body(model),
      pid: child.pid,
    });
  }
  return out;
}

/** utime + stime of a process, in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The gateway's CPU time per request while CONNECTIONS clients send back to back for LOAD_SECONDS. */
async function cpuPerRequest(r: Rung, pid: number): Promise<number> {
  const before = cpuMs(pid);
  const until = performance.now() + LOAD_SECONDS * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < until) {
        await timedChat(r.pool, r.name, r.body);
        done++;
      }
    }),
  );
  return (cpuMs(pid) - before) / done;
}

async function main(): Promise<void> {
  const up = await start(["--import", "tsx", join(ROOT, "bench/upstream.ts")], {});
  const upstream = `http://127.0.0.1:${up.port}`;
  const direct: Rung = { name: "direct", pool: new Pool(upstream, { connections: CONNECTIONS }), body: body("bench") };
  const rungs = [direct, ...(await startRungs(upstream))];
  const interleaved = new Map<string, number[]>(rungs.map((r) => [r.name, []]));
  for (let i = 0; i < N; i++) {
    for (const r of i % 2 === 0 ? rungs : [...rungs].reverse()) {
      const ms = await timedChat(r.pool, r.name, r.body);
      if (i >= N / 2) interleaved.get(r.name)?.push(ms);
    }
  }
  // In blocks: two passes, the second in the opposite order, each path N/2 requests a pass (the first
  // half of each block warms it up again).
  const blocks = new Map<string, number[]>(rungs.map((r) => [r.name, []]));
  for (const pass of [rungs, [...rungs].reverse()]) {
    for (const r of pass) {
      for (let i = 0; i < N / 2; i++) {
        const ms = await timedChat(r.pool, r.name, r.body);
        if (i >= N / 4) blocks.get(r.name)?.push(ms);
      }
    }
  }
  const cpu = new Map<string, number>();
  for (const r of rungs) if (r.pid !== undefined) cpu.set(r.name, await cpuPerRequest(r, r.pid));
  const f = (ms: number) => ms.toFixed(3);
  const column = (runs: Map<string, number[]>) => {
    const p50 = (name: string) => percentile(runs.get(name) ?? [], 50);
    const bare = p50("bare proxy") - p50("direct");
    return (name: string) => {
      const added = p50(name) - p50("direct");
      return name === "direct" ? `${f(p50(name))} (direct)` : `${f(added)} (${(added / bare).toFixed(2)}x)`;
    };
  };
  const inOrder = column(interleaved);
  const inBlocks = column(blocks);
  console.log(
    [
      `Added p50 over a direct call, ms (x the bare proxy's), ${N} requests per path interleaved and ${N} in blocks; the gateway's CPU time per request at ${CONNECTIONS} connections for ${LOAD_SECONDS} s (x the bare proxy's):`,
      "",
      "| path | interleaved | in blocks | CPU per request |",
      "|---|---|---|---|",
      ...rungs.map((r) => {
        const ms = cpu.get(r.name);
        const bare = cpu.get("bare proxy") as number;
        return `| ${r.name} | ${inOrder(r.name)} | ${inBlocks(r.name)} | ${ms === undefined ? "–" : `${f(ms)} (${(ms / bare).toFixed(2)}x)`} |`;
      }),
    ].join("\n"),
  );
  for (const r of rungs) await r.pool.close();
}

try {
  await main();
} finally {
  for (const child of children) child.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}
