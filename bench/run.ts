/**
 * `npm run bench`: tandem's added latency and CPU against a direct call and a bare Node pass-through
 * proxy, all on 127.0.0.1, interleaved in one run. Prints a report and writes bench/results/.
 * Bounded: every loop has a fixed count or time limit. It measures; it never fails.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Pool } from "undici";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const REPS = Number(process.env.BENCH_REPS ?? 3);
const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 500);
const STREAMS = Number(process.env.BENCH_STREAMS ?? 150);
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 4);
const CONNECTIONS = 32;
const CHUNKS = 20;

type PathName = "direct" | "bare" | "tandem";
const children: ChildProcess[] = [];

/**
 * Starts a server process and resolves with its port (from a `{"port":N}` line on stdout, or
 * tandem's banner on stderr). With `logTo`, stdout goes to that file, as a deployed server's logs
 * would, rather than through a pipe this process would have to keep reading.
 */
function start(args: string[], env: NodeJS.ProcessEnv, logTo?: string): Promise<{ child: ChildProcess; port: number }> {
  const stdout = logTo ? openSync(logTo, "w") : "pipe";
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ["ignore", stdout, "pipe"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stderr?.on("data", (d) => {
      if (err.length > 65536) return;
      err += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(err);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.stdout?.on("data", (d) => {
      if (out.length > 4096) return;
      out += d;
      const m = /^\{"port":(\d+)\}/m.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on("exit", (code) => reject(new Error(`${args.join(" ")} exited ${code}: ${err}`)));
  });
}

/** utime+stime of a process, in ms (Linux /proc). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : 0;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

const body = (stream: boolean) =>
  JSON.stringify({ model: "MODEL", messages: [{ role: "user", content: "Say something short." }], stream, max_tokens: 64 });

async function once(pool: Pool, path: string, payload: string): Promise<{ ms: number; ttfbMs: number; events: number }> {
  const t0 = performance.now();
  const res = await pool.request({ method: "POST", path, headers: { "content-type": "application/json" }, body: payload });
  let ttfbMs = -1;
  let events = 0;
  for await (const piece of res.body) {
    if (ttfbMs < 0) ttfbMs = performance.now() - t0;
    const text = piece.toString();
    for (let i = text.indexOf("data:"); i !== -1; i = text.indexOf("data:", i + 5)) events++;
  }
  if (res.statusCode !== 200) throw new Error(`${path}: HTTP ${res.statusCode}`);
  return { ms: performance.now() - t0, ttfbMs, events };
}

async function main(): Promise<void> {
  const up = await start(["--import", "tsx", join(ROOT, "bench/upstream.ts")], { BENCH_CHUNKS: String(CHUNKS) });
  const upstreamUrl = `http://127.0.0.1:${up.port}`;
  const bare = await start(["--import", "tsx", join(ROOT, "bench/bare-proxy.ts")], { BENCH_UPSTREAM: upstreamUrl });
  const dir = mkdtempSync(join(tmpdir(), "tandem-bench-"));
  const configFile = join(dir, "tandem.config.yaml");
  writeFileSync(
    configFile,
    `providers:\n  up: { kind: openai, baseUrl: "${upstreamUrl}/v1", models: [bench] }\nroutes:\n  auto: { tiers: [up/bench] }\n`,
  );
  const tandem = await start(
    [join(ROOT, "dist/cli/main.js"), "serve", "--config", configFile, "--port", "0"],
    { HOME: dir, XDG_DATA_HOME: dir, OLLAMA_HOST: "127.0.0.1:9" },
    join(dir, "tandem.log"),
  );
  const idleRss = rssMiB(tandem.child.pid as number);

  const paths: Record<PathName, { pool: Pool; path: string; model: string; pid?: number }> = {
    direct: { pool: new Pool(upstreamUrl, { connections: CONNECTIONS }), path: "/v1/chat/completions", model: "bench" },
    bare: {
      pool: new Pool(`http://127.0.0.1:${bare.port}`, { connections: CONNECTIONS }),
      path: "/v1/chat/completions",
      model: "bench",
      pid: bare.child.pid,
    },
    tandem: {
      pool: new Pool(`http://127.0.0.1:${tandem.port}`, { connections: CONNECTIONS }),
      path: "/v1/chat/completions",
      model: "up/bench",
      pid: tandem.child.pid,
    },
  };
  const names: PathName[] = ["direct", "bare", "tandem"];
  const payload = (name: PathName, stream: boolean) => body(stream).replace("MODEL", paths[name].model);

  // Warm up every path (JIT, pools, sockets).
  for (let i = 0; i < 300; i++) for (const n of names) await once(paths[n].pool, paths[n].path, payload(n, i % 2 === 0));

  const reps: Record<string, Record<string, number>>[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const r: Record<string, Record<string, number>> = {};
    // Sequential, interleaved so drift hits every path alike.
    const lat: Record<PathName, number[]> = { direct: [], bare: [], tandem: [] };
    for (let i = 0; i < SEQUENTIAL; i++) {
      for (const n of i % 2 === 0 ? names : [...names].reverse())
        lat[n].push((await once(paths[n].pool, paths[n].path, payload(n, false))).ms);
    }
    // Streaming: time to first byte and whole stream, and whether every chunk came through.
    const ttfb: Record<PathName, number[]> = { direct: [], bare: [], tandem: [] };
    const streamMs: Record<PathName, number[]> = { direct: [], bare: [], tandem: [] };
    const events: Record<PathName, number> = { direct: 0, bare: 0, tandem: 0 };
    for (let i = 0; i < STREAMS; i++) {
      for (const n of names) {
        const s = await once(paths[n].pool, paths[n].path, payload(n, true));
        ttfb[n].push(s.ttfbMs);
        streamMs[n].push(s.ms);
        events[n] = s.events;
      }
    }
    for (const n of names) {
      const sorted = lat[n].sort((a, b) => a - b);
      const sortedTtfb = ttfb[n].sort((a, b) => a - b);
      r[n] = {
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        ttfbP50: percentile(sortedTtfb, 50),
        streamP50: percentile(
          streamMs[n].sort((a, b) => a - b),
          50,
        ),
        streamEvents: events[n],
      };
    }
    // Throughput at CONNECTIONS concurrent requests, each path alone, for a fixed time.
    for (const n of names) {
      const p = paths[n];
      const cpu0 = p.pid ? cpuMs(p.pid) : 0;
      const until = performance.now() + LOAD_SECONDS * 1000;
      let done = 0;
      await Promise.all(
        Array.from({ length: CONNECTIONS }, async () => {
          while (performance.now() < until) {
            await once(p.pool, p.path, payload(n, false));
            done++;
          }
        }),
      );
      const cpu = p.pid ? cpuMs(p.pid) - cpu0 : Number.NaN;
      (r[n] as Record<string, number>).rps = done / LOAD_SECONDS;
      (r[n] as Record<string, number>).cpuMsPerRequest = cpu / done;
      if (p.pid) (r[n] as Record<string, number>).loadedRssMiB = rssMiB(p.pid);
    }
    reps.push(r);
    process.stderr.write(`rep ${rep + 1}/${REPS} done\n`);
  }

  const summary: Record<string, { median: number; min: number; max: number }> = {};
  const metric = (key: string, f: (r: Record<string, Record<string, number>>) => number) => {
    const values = reps.map(f);
    summary[key] = { median: median(values), min: Math.min(...values), max: Math.max(...values) };
  };
  for (const n of names) {
    for (const k of ["p50", "p99", "ttfbP50", "streamP50", "rps", "streamEvents"])
      metric(`${n}.${k}`, (r) => r[n]?.[k] as number);
  }
  for (const n of ["bare", "tandem"] as const) {
    metric(`${n}.addedP50`, (r) => (r[n]?.p50 as number) - (r.direct?.p50 as number));
    metric(`${n}.addedP99`, (r) => (r[n]?.p99 as number) - (r.direct?.p99 as number));
    metric(`${n}.addedTtfbP50`, (r) => (r[n]?.ttfbP50 as number) - (r.direct?.ttfbP50 as number));
    metric(`${n}.cpuMsPerRequest`, (r) => r[n]?.cpuMsPerRequest as number);
    metric(`${n}.loadedRssMiB`, (r) => r[n]?.loadedRssMiB as number);
  }
  metric(
    "ratio.addedP50TandemOverBare",
    (r) => ((r.tandem?.p50 as number) - (r.direct?.p50 as number)) / ((r.bare?.p50 as number) - (r.direct?.p50 as number)),
  );

  const conditions = {
    date: new Date().toISOString(),
    node: process.version,
    cores: cpus().length,
    reps: REPS,
    sequentialPerRep: SEQUENTIAL,
    streamsPerRep: STREAMS,
    loadSeconds: LOAD_SECONDS,
    connections: CONNECTIONS,
    chunksPerStream: CHUNKS,
    tandemIdleRssMiB: idleRss,
  };
  const fmt = (k: string, unit = "ms", digits = 3) => {
    const s = summary[k];
    return s ? `${s.median.toFixed(digits)} ${unit} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})` : "n/a";
  };
  const md = [
    "# tandem benchmark",
    "",
    `Node ${conditions.node}, ${conditions.cores} cores, ${REPS} repetitions; median (min–max over repetitions).`,
    `Sequential: ${SEQUENTIAL} non-streamed requests per path per repetition, interleaved. Streams: ${STREAMS} per path, ${CHUNKS} content chunks each.`,
    `Load: ${CONNECTIONS} connections for ${LOAD_SECONDS} s per path. All on 127.0.0.1; the upstream is a fixed-answer fake.`,
    "",
    "| | direct | bare Node proxy | tandem |",
    "|---|---|---|---|",
    `| p50 latency | ${fmt("direct.p50")} | ${fmt("bare.p50")} | ${fmt("tandem.p50")} |`,
    `| p99 latency | ${fmt("direct.p99")} | ${fmt("bare.p99")} | ${fmt("tandem.p99")} |`,
    `| added p50 | – | ${fmt("bare.addedP50")} | ${fmt("tandem.addedP50")} |`,
    `| added p99 | – | ${fmt("bare.addedP99")} | ${fmt("tandem.addedP99")} |`,
    `| stream time to first byte p50 | ${fmt("direct.ttfbP50")} | ${fmt("bare.ttfbP50")} | ${fmt("tandem.ttfbP50")} |`,
    `| added time to first byte p50 | – | ${fmt("bare.addedTtfbP50")} | ${fmt("tandem.addedTtfbP50")} |`,
    `| SSE events per stream | ${fmt("direct.streamEvents", "", 0)} | ${fmt("bare.streamEvents", "", 0)} | ${fmt("tandem.streamEvents", "", 0)} |`,
    `| requests/s at ${CONNECTIONS} connections | ${fmt("direct.rps", "", 0)} | ${fmt("bare.rps", "", 0)} | ${fmt("tandem.rps", "", 0)} |`,
    `| gateway CPU per request | – | ${fmt("bare.cpuMsPerRequest")} | ${fmt("tandem.cpuMsPerRequest")} |`,
    `| gateway RSS under load | – | ${fmt("bare.loadedRssMiB", "MiB", 0)} | ${fmt("tandem.loadedRssMiB", "MiB", 0)} |`,
    "",
    `tandem added p50 / bare proxy added p50: **${fmt("ratio.addedP50TandemOverBare", "x", 2)}** (target: at most 1.5x). tandem idle RSS: ${idleRss.toFixed(0)} MiB.`,
    "",
    "tandem always streams from its upstream (so its time limits and usage work the same for every client);",
    "for a non-streamed client request it gathers the stream, which the direct and bare paths do not do.",
    "",
  ].join("\n");
  process.stdout.write(`${md}\n`);
  mkdirSync(join(ROOT, "bench/results"), { recursive: true });
  writeFileSync(join(ROOT, "bench/results/latest.json"), `${JSON.stringify({ conditions, summary, reps }, null, 2)}\n`);
  writeFileSync(join(ROOT, "bench/results/latest.md"), md);
  for (const p of Object.values(paths)) await p.pool.close();
}

try {
  await main();
} finally {
  for (const c of children) c.kill("SIGTERM");
}
