/**
 * Where a sequential request's added time goes, phase by phase, in tandem, the floor server and the bare proxy:
 * the same one-message chat completion as `npm run bench` (not streamed by the client), interleaved
 * with direct calls. Each gateway runs with bench/phase-marks.mjs preloaded, which times the phases
 * from Node's and undici's public diagnostics channels (no change to either gateway):
 *
 *   in → sent        the request's headers were read → the upstream request was written
 *                    (body, validation, routing, privacy, the audit, the upstream request)
 *   sent → answered  → the upstream's response headers were read (the upstream's own time, and
 *                    whatever the gateway's thread did after sending: "busy while waiting")
 *   answered → received  → the upstream's body was read whole
 *   received → out   → the client's response was written (parsing, relay, checks, rendering)
 *
 * Then tandem's own steps within them (src/core/request-steps.ts; Fastify's call of the handler), each
 * timed from the step before it, to show where tandem's time before sending and after the answer goes.
 *
 * Medians in ms over the second half of the requests (the first half warms up).
 *
 *   npm run build && npx tsx bench/phases.ts        (BENCH_PHASES_N: requests per gateway, default 3000)
 */
import type { ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Pool } from "undici";
import { benchTandemConfig, children, percentile, start, startBenchTandem, timedChat } from "./servers.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const N = Number(process.env.BENCH_PHASES_N ?? 3000);
const MARKS = join(ROOT, "bench/phase-marks.mjs");
const dir = mkdtempSync(join(tmpdir(), "tandem-phases-"));

interface Row {
  [step: string]: number | undefined;
  start: number;
  sent: number;
  answered: number;
  received: number;
  finished: number;
  busyWhileWaiting?: number;
}

async function main(): Promise<void> {
  const up = await start(["--import", "tsx", join(ROOT, "bench/upstream.ts")], {});
  const upstream = `http://127.0.0.1:${up.port}`;
  const bareOut = join(dir, "bare.json");
  const bare = await start(["--import", MARKS, "--import", "tsx", join(ROOT, "bench/bare-proxy.ts")], {
    BENCH_UPSTREAM: upstream,
    BENCH_PHASES_OUT: bareOut,
  });
  const floorOut = join(dir, "floor.json");
  const floorDir = join(dir, "floor-server");
  mkdirSync(floorDir);
  const floor = await start(["--import", MARKS, "--import", "tsx", join(ROOT, "bench/floor-server.ts")], {
    BENCH_UPSTREAM: upstream,
    BENCH_FLOOR_DIR: floorDir,
    BENCH_PHASES_OUT: floorOut,
  });
  // As in `npm run bench`: a remote-looking upstream (so privacy classifies each request), the store on.
  const tandemOut = join(dir, "tandem.json");
  const tandem = await startBenchTandem(dir, benchTandemConfig(upstream, join(dir, "data")), {
    nodeArgs: ["--import", MARKS],
    env: { BENCH_PHASES_OUT: tandemOut },
  });
  const paths = [
    { name: "direct", pool: new Pool(upstream, { connections: 1 }), model: "bench", ms: [] as number[] },
    {
      name: "bare proxy",
      pool: new Pool(`http://127.0.0.1:${bare.port}`, { connections: 1 }),
      model: "bench",
      ms: [] as number[],
    },
    {
      name: "floor server",
      pool: new Pool(`http://127.0.0.1:${floor.port}`, { connections: 1 }),
      model: "up/bench",
      ms: [] as number[],
    },
    {
      name: "tandem",
      pool: new Pool(`http://127.0.0.1:${tandem.port}`, { connections: 1 }),
      model: "up/bench",
      ms: [] as number[],
    },
  ];
  for (let i = 0; i < N; i++) {
    for (const p of i % 2 === 0 ? paths : [...paths].reverse()) {
      const body = JSON.stringify({
        model: p.model,
        messages: [{ role: "user", content: "Say something short." }],
        stream: false,
        max_tokens: 64,
      });
      const ms = await timedChat(p.pool, p.name, body);
      if (i >= N / 2) p.ms.push(ms);
    }
  }
  const rowsOf = async (child: ChildProcess, file: string): Promise<Row[]> => {
    child.kill("SIGUSR2");
    for (let tries = 0; tries < 50; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      try {
        const rows = JSON.parse(readFileSync(file, "utf8")) as Row[];
        return rows.slice(Math.floor(rows.length / 2));
      } catch {
        // Not written yet.
      }
    }
    throw new Error(`no phase marks in ${file}`);
  };
  const median = (values: number[]) => percentile(values, 50);
  const phases: [string, (r: Row) => number][] = [
    ["in → sent", (r) => r.sent - r.start],
    ["sent → answered", (r) => r.answered - r.sent],
    ["  of which the gateway's thread was busy", (r) => r.busyWhileWaiting ?? Number.NaN],
    ["answered → received", (r) => r.received - r.answered],
    ["received → out", (r) => r.finished - r.received],
    ["in → out (all)", (r) => r.finished - r.start],
  ];
  const bareRows = await rowsOf(bare.child, bareOut);
  const floorRows = await rowsOf(floor.child, floorOut);
  const tandemRows = await rowsOf(tandem.child, tandemOut);
  const direct = median(paths[0]?.ms ?? []);
  const f = (ms: number) => ms.toFixed(3);
  const lines = [
    `Sequential non-streamed chat completions, ${N} per path interleaved (medians over the last ${N / 2}), ms:`,
    "",
    "| phase | bare proxy | floor server | tandem | tandem − floor | tandem − bare |",
    "|---|---|---|---|---|---|",
    ...phases.map(([name, of]) => {
      const b = median(bareRows.map(of));
      const fl = median(floorRows.map(of));
      const t = median(tandemRows.map(of));
      return `| ${name} | ${f(b)} | ${f(fl)} | ${f(t)} | ${f(t - fl)} | ${f(t - b)} |`;
    }),
    `| client's added time (over direct, ${f(direct)}) | ${[1, 2, 3].map((i) => f(median(paths[i]?.ms ?? []) - direct)).join(" | ")} | | |`,
  ];
  // tandem's steps in the order they come (see the preload): each row is the time since the step before.
  const steps = [
    "start",
    "body-read",
    "handler",
    "parsed",
    "routed",
    "attempt",
    "audit",
    "audited",
    "sent",
    "answered",
    "received",
    "collected",
    "rendered",
    "finished",
  ];
  lines.push("", "tandem, step by step (ms since the step before; median):", "", "| step | ms |", "|---|---|");
  for (let i = 1; i < steps.length; i++) {
    const from = steps[i - 1] as string;
    const to = steps[i] as string;
    const ms = median(tandemRows.map((r) => (r[to] ?? Number.NaN) - (r[from] ?? Number.NaN)).filter((v) => !Number.isNaN(v)));
    lines.push(`| ${from} → ${to} | ${f(ms)} |`);
  }
  console.log(lines.join("\n"));
  for (const p of paths) await p.pool.close();
}

try {
  await main();
} finally {
  for (const child of children) child.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}
