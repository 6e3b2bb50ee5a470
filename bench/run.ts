/**
 * `npm run bench`: what tandem costs, side by side with a direct call, a bare Node pass-through
 * proxy and Portkey's open-source gateway, all on 127.0.0.1, interleaved in one run. Prints a
 * Markdown report and writes bench/results/latest.{md,json}. Every loop is bounded in count and
 * time; it measures and never fails.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Pool } from "undici";
import { type ThroughputModelInfo, writeThroughputModel } from "../test/support/gguf/index.js";
import { SHARED_MODELS_DIR } from "../test/support/local-models.js";
import { measureStall, stallShapes } from "./health-stall.js";
import { compareLocal, DirectEngine, hungModelGap, type LocalRun, throughTandem } from "./local-engine.js";
import { loadPrivacyBench, requestBytes, typicalChatRequest } from "./privacy.js";
import { benchTandemConfig, children, percentile, start, startBenchTandem } from "./servers.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const REPS = Number(process.env.BENCH_REPS ?? 3);
const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 500);
const STREAMS = Number(process.env.BENCH_STREAMS ?? 150);
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 4);
const CONNECTIONS = 32;
const CHUNKS = 20;
const PORTKEY = join(ROOT, "node_modules/@portkey-ai/gateway/build/start-server.js");
/** Lets Portkey stream on Node 20's fetch (see bench/portkey-fetch.mjs; plain JavaScript, so no TypeScript loader runs in its process). */
const PORTKEY_PRELOAD = ["--import", join(ROOT, "bench/portkey-fetch.mjs")];
const PACED_STREAMS = Number(process.env.BENCH_PACED_STREAMS ?? 30);
/**
 * Warm-up requests per path before anything is measured, half of them streamed: the figures are a
 * long-running server's. tandem settles after about 2,000 sequential requests on a quiet machine
 * (bench/warm-up.ts; src/cli/v8-tiering.ts), later under other load; the other gateways (the floor
 * server, Portkey) run on V8's defaults. Every path gets the same number.
 */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5000);
const PACE_MS = 2;
const LOCAL_RUNS = Number(process.env.BENCH_LOCAL_RUNS ?? 5);
const LOCAL_IDLE_MS = 500;
/** Size of the maximal bodies sent while /health is timed: tandem's default `server.bodyLimit`. */
const STALL_BODY_BYTES = 32 * 1024 * 1024;
/** Request sizes (bytes of text) for the classification cost, and calls timed per repetition. */
const CLASSIFY_SIZES = [
  { key: "classify1k", bytes: 1024, calls: 3000 },
  { key: "classify16k", bytes: 16 * 1024, calls: 300 },
];

/** A model the local-engine figures run on, through tandem and directly. */
interface LocalModel {
  /** Its name in tandem (`local/<name>`) and its key in the results. */
  name: string;
  label: string;
  path: string;
  /** Tokens per run: each run must produce all of them (both models never stop by themselves). */
  tokens: number;
  /** Why it could not be measured, if so. */
  failed?: string;
}

type Stats = Record<string, number>;
interface Path {
  name: string;
  pool: Pool;
  path: string;
  headers: Record<string, string>;
  body: (stream: boolean, paced?: boolean) => string;
  /** The gateway's process, for CPU and memory; none for the direct path. */
  pid?: number;
  /** Why a scenario could not run on this path (e.g. the gateway failed it), by scenario. */
  failed: Record<string, string>;
}

/** Temporary folders of the `BENCH_ONLY` runs, removed on the way out. */
const tempDirs: string[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      s.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** utime and stime of a process apart, in ms: system time is mostly the sockets' (loopback TCP). */
function cpuSplitMs(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return { user: Number(fields[11]) * 10, system: Number(fields[12]) * 10 };
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function once(p: Path, stream: boolean): Promise<{ ms: number; ttfbMs: number; events: number }> {
  const t0 = performance.now();
  const res = await p.pool.request({ method: "POST", path: p.path, headers: p.headers, body: p.body(stream) });
  let ttfbMs = -1;
  let events = 0;
  let text = "";
  for await (const piece of res.body) {
    if (ttfbMs < 0) ttfbMs = performance.now() - t0;
    const s = piece.toString();
    if (res.statusCode !== 200) text += s;
    for (let i = s.indexOf("data:"); i !== -1; i = s.indexOf("data:", i + 5)) events++;
  }
  if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
  return { ms: performance.now() - t0, ttfbMs, events };
}

/**
 * A paced stream (word k leaves the upstream k * PACE_MS after the request): how late each word
 * reaches the client against that schedule, from the start of the request. Through a gateway that
 * forwards without buffering, this is the direct figure plus a small constant; buffering would show
 * up as delays that grow over the stream.
 */
async function pacedOnce(p: Path): Promise<number[]> {
  const start = performance.now();
  const res = await p.pool.request({ method: "POST", path: p.path, headers: p.headers, body: p.body(true, true) });
  const words: number[] = [];
  for await (const piece of res.body) {
    const now = performance.now();
    const s = piece.toString();
    for (let i = s.indexOf("word"); i !== -1; i = s.indexOf("word", i + 4)) words.push(now);
  }
  if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
  return words.map((t, k) => t - start - (k + 1) * PACE_MS);
}

/**
 * `CONNECTIONS` clients sending non-streamed requests back to back for `LOAD_SECONDS`: requests/s,
 * and the gateway's CPU time per request and memory at the end (when it has a process of its own).
 */
async function underLoad(
  p: Path,
): Promise<{ rps: number; cpuMsPerRequest?: number; systemMsPerRequest?: number; rssMiB?: number }> {
  const cpu0 = p.pid ? cpuSplitMs(p.pid) : { user: 0, system: 0 };
  const until = performance.now() + LOAD_SECONDS * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < until) {
        await once(p, false);
        done++;
      }
    }),
  );
  const rps = done / LOAD_SECONDS;
  if (!p.pid) return { rps };
  const cpu1 = cpuSplitMs(p.pid);
  const system = cpu1.system - cpu0.system;
  return {
    rps,
    cpuMsPerRequest: (cpu1.user - cpu0.user + system) / done,
    systemMsPerRequest: system / done,
    rssMiB: rssMiB(p.pid),
  };
}

/** Runs `fn` for one path, recording the first failure instead of aborting the benchmark. */
async function guarded(p: Path, scenario: string, fn: () => Promise<void>): Promise<void> {
  if (p.failed[scenario]) return;
  try {
    await fn();
  } catch (err) {
    p.failed[scenario] = (err as Error).message.slice(0, 200);
  }
}

const chatBody =
  (model: string) =>
  (stream: boolean, paced = false) =>
    JSON.stringify({
      model: paced ? `${model}-paced` : model,
      messages: [{ role: "user", content: "Say something short." }],
      stream,
      max_tokens: 64,
    });
const messagesBody = (model: string) => (stream: boolean) =>
  JSON.stringify({ model, max_tokens: 64, messages: [{ role: "user", content: "Say something short." }], stream });
/** The Responses API request equivalent to chatBody's; stored (the API's default) unless told otherwise. */
const responsesBody = (model: string, store: boolean) => (stream: boolean) =>
  JSON.stringify({
    model,
    input: [{ role: "user", content: "Say something short." }],
    stream,
    max_output_tokens: 64,
    ...(!store && { store: false }),
  });

/**
 * The Responses API's overhead beside chat completions': the same request to the same upstream as
 * direct, as a chat completion through tandem, and as POST /v1/responses through tandem (stored,
 * and with `store: false`), sequential, interleaved, not streamed.
 */
function responsesPaths(upstreamPort: number, tandemPort: number, pid: number | undefined): Path[] {
  const json = { "content-type": "application/json" };
  const pool = (port: number) => new Pool(`http://127.0.0.1:${port}`, { connections: 1 });
  return [
    {
      name: "direct",
      pool: pool(upstreamPort),
      path: "/v1/chat/completions",
      headers: json,
      body: chatBody("bench"),
      failed: {},
    },
    {
      name: "chat",
      pool: pool(tandemPort),
      path: "/v1/chat/completions",
      headers: json,
      body: chatBody("up/bench"),
      pid,
      failed: {},
    },
    {
      name: "responses",
      pool: pool(tandemPort),
      path: "/v1/responses",
      headers: json,
      body: responsesBody("up/bench", true),
      pid,
      failed: {},
    },
    {
      name: "responses (store: false)",
      pool: pool(tandemPort),
      path: "/v1/responses",
      headers: json,
      body: responsesBody("up/bench", false),
      pid,
      failed: {},
    },
  ];
}

/** Sequential non-streamed requests, interleaved (drift hits every path alike): p50 and p99 per path. */
async function sequentialLatencies(group: Path[], count: number, scenario: string): Promise<Record<string, Stats>> {
  const lat: Record<string, number[]> = {};
  for (let i = 0; i < count; i++) {
    for (const p of i % 2 === 0 ? group : [...group].reverse()) {
      await guarded(p, scenario, async () => {
        const { ms } = await once(p, false);
        lat[p.name] ??= [];
        lat[p.name]?.push(ms);
      });
    }
  }
  return Object.fromEntries(
    group.map((p) => [p.name, { p50: percentile(lat[p.name] ?? [], 50), p99: percentile(lat[p.name] ?? [], 99) }]),
  );
}

type Summary = Record<string, { median: number; min: number; max: number }>;

/** The Responses figures over repetitions: p50/p99 per path, added over direct, and over chat completions. */
function responsesSummary(reps: Record<string, Stats>[], summary: Summary, group: Path[]): void {
  const metric = (key: string, f: (r: Record<string, Stats>) => number) => {
    const values = reps.map(f).filter((v) => Number.isFinite(v));
    if (values.length > 0) summary[key] = { median: percentile(values, 50), min: Math.min(...values), max: Math.max(...values) };
  };
  const at = (r: Record<string, Stats>, n: string, k: string) => r[`responses/${n}`]?.[k] as number;
  for (const p of group) {
    for (const k of ["p50", "p99"]) {
      metric(`responses.${p.name}.${k}`, (r) => at(r, p.name, k));
      if (p.name !== "direct") {
        const added = `added${k.toUpperCase()}`;
        metric(`responses.${p.name}.${added}`, (r) => at(r, p.name, k) - at(r, "direct", k));
        if (p.name !== "chat")
          metric(`responses.${p.name}.overChat${k.toUpperCase()}`, (r) => at(r, p.name, k) - at(r, "chat", k));
      }
    }
  }
}

function responsesMarkdown(summary: Summary, group: Path[], count: number): string[] {
  const fmt = (k: string) => {
    const s = summary[k];
    return s ? `${s.median.toFixed(3)} ms (${s.min.toFixed(3)}–${s.max.toFixed(3)})` : "n/a";
  };
  const names = group.map((p) => p.name);
  const row = (label: string, key: string, skip: string[] = []) =>
    `| ${label} | ${names.map((n) => (skip.includes(n) ? "–" : fmt(`responses.${n}.${key}`))).join(" | ")} |`;
  return [
    `Responses API (\`POST /v1/responses\`, the equivalent one-message request, \`max_output_tokens: 64\`) beside chat completions, both through \`tandem\` to the same upstream; ${count} sequential non-streamed requests per path per repetition, interleaved. \`responses\` is stored (the API's default: its input and output are saved in the encrypted store before the answer is sent); \`responses (store: false)\` is not.`,
    "",
    `| | ${names.join(" | ")} |`,
    `|---|${names.map(() => "---").join("|")}|`,
    row("p50 latency", "p50"),
    row("p99 latency", "p99"),
    row("added p50 (over direct)", "addedP50", ["direct"]),
    row("added p99 (over direct)", "addedP99", ["direct"]),
    row("p50 over chat completions", "overChatP50", ["direct", "chat"]),
    row("p99 over chat completions", "overChatP99", ["direct", "chat"]),
  ];
}

async function main(modelDir: string): Promise<void> {
  const loadAtStart = loadavg();
  const privacy = await loadPrivacyBench(join(ROOT, "dist"));
  const detection = privacy.quality();
  const classifyRequests = CLASSIFY_SIZES.map((c) => {
    const request = typicalChatRequest(c.bytes);
    return { ...c, request, actualBytes: requestBytes(request), found: privacy.findings(request) };
  });
  const up = await start(["--import", "tsx", join(ROOT, "bench/upstream.ts")], { BENCH_CHUNKS: String(CHUNKS) });
  const upstreamUrl = `http://127.0.0.1:${up.port}`;
  const bare = await start(["--import", "tsx", join(ROOT, "bench/bare-proxy.ts")], { BENCH_UPSTREAM: upstreamUrl });
  const fastify = await start(["--import", "tsx", join(ROOT, "bench/fastify-proxy.ts")], { BENCH_UPSTREAM: upstreamUrl });
  const dir = mkdtempSync(join(tmpdir(), "tandem-bench-"));
  tempDirs.push(dir);
  const floor = await startFloorServer(upstreamUrl, dir);
  const minimal = await startMinimalGateway(upstreamUrl, dir);
  const configFile = join(dir, "tandem.config.yaml");
  // The same server without its encrypted store: the difference is what the store costs, the egress
  // audit's commit before each body leaves (one fsync per group of concurrent requests) above all.
  const noStoreFile = join(dir, "tandem-no-store.config.yaml");
  const mainConfig = (store: boolean, data = store ? "main-data" : "no-store-data") =>
    // A data dir of its own: the other tandems below write their stores too, and must not share its file.
    benchTandemConfig(upstreamUrl, join(dir, data), {
      store,
      models: ["bench", "bench-paced"],
      extra: [
        `  claude: { kind: anthropic, baseUrl: "${upstreamUrl}", local: false, apiKeys: ["env:BENCH_UPSTREAM_KEY"], models: [bench] }`,
        // The same upstream through routes that ask it for whole answers when the client does not stream.
        "routes:",
        "  whole: { tiers: [up/bench], streamUpstream: false }",
        "  whole-paced: { tiers: [up/bench-paced], streamUpstream: false }",
        // Maximal bodies for the /health stall figures: classified for privacy, then sent (and audited).
        "  stall: { tiers: [up/bench], privacy: allow }",
      ],
    });
  writeFileSync(configFile, mainConfig(true));
  writeFileSync(noStoreFile, mainConfig(false));
  const storeKey = randomBytes(32).toString("hex");
  const tandem = await start(
    [join(ROOT, "dist/cli/main.js"), "serve", "--config", configFile, "--port", "0"],
    { HOME: dir, XDG_DATA_HOME: dir, OLLAMA_HOST: "127.0.0.1:9", BENCH_UPSTREAM_KEY: "sk-bench", TANDEM_DB_KEY: storeKey },
    { logTo: join(dir, "tandem.log") },
  );
  const noStore = await start(
    [join(ROOT, "dist/cli/main.js"), "serve", "--config", noStoreFile, "--port", "0"],
    { HOME: dir, XDG_DATA_HOME: dir, OLLAMA_HOST: "127.0.0.1:9", BENCH_UPSTREAM_KEY: "sk-bench" },
    { logTo: join(dir, "tandem-no-store.log") },
  );
  // `tandem (whole)` from a server of its own: in the interleaved sequential rounds a server that
  // answered two paths would get twice the requests of every other gateway, and run warmer for it
  // (its code and data in the CPU's caches), which made each of its paths look faster than one served
  // alone (a tandem without its store came out slower than the one with it).
  const wholeFile = join(dir, "tandem-whole.config.yaml");
  writeFileSync(wholeFile, mainConfig(true, "whole-data"));
  const wholeTandem = await start(
    [join(ROOT, "dist/cli/main.js"), "serve", "--config", wholeFile, "--port", "0"],
    { HOME: dir, XDG_DATA_HOME: dir, OLLAMA_HOST: "127.0.0.1:9", BENCH_UPSTREAM_KEY: "sk-bench", TANDEM_DB_KEY: storeKey },
    { logTo: join(dir, "tandem-whole.log") },
  );
  const tandemIdleRss = rssMiB(tandem.child.pid as number);
  // Two more tandems for the resilience figures, with a provider nothing listens on ("dead"): in one
  // the dead target's breaker never opens (every request pays for finding it dead), in the other it
  // opens after the default 5 failures. Health probes are off so only the breaker decides.
  const deadPort = await freePort();
  const resilienceConfig = (threshold: number) =>
    [
      "health: { probeIntervalMs: 0 }",
      `breaker: { failureThreshold: ${threshold} }`,
      "providers:",
      `  up: { kind: openai, baseUrl: "${upstreamUrl}/v1", models: [bench, bench-broken] }`,
      `  dead: { kind: openai, baseUrl: "http://127.0.0.1:${deadPort}/v1", models: [bench] }`,
      "routes:",
      "  healthy: { tiers: [up/bench] }",
      "  failover: { tiers: [dead/bench, up/bench], retry: { attempts: 1 } }",
      "  midstream: { tiers: [up/bench-broken, up/bench], retry: { attempts: 1 } }",
      "",
    ].join("\n");
  const startResilience = async (name: string, threshold: number) => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, resilienceConfig(threshold));
    const started = await start(
      [join(ROOT, "dist/cli/main.js"), "serve", "--config", file, "--port", "0"],
      { HOME: dir, XDG_DATA_HOME: dir, OLLAMA_HOST: "127.0.0.1:9" },
      { logTo: join(dir, `${name}.log`) },
    );
    return new Pool(`http://127.0.0.1:${started.port}`, { connections: 4 });
  };
  const breakerClosed = await startResilience("breaker-closed", 1_000_000_000);
  const breakerOpen = await startResilience("breaker-open", 5);
  // The embedded engine, 1 thread (as node-llama-cpp directly below), on the tiny stories model and on
  // a synthetic model of a real small model's size written for this run; and a route whose local tier
  // will be frozen mid-stream to time hang detection.
  const localModels: LocalModel[] = [
    { name: "stories", label: "stories260K", path: join(SHARED_MODELS_DIR, "stories260K.gguf"), tokens: 400 },
  ];
  const synthetic: LocalModel = { name: "synthetic", label: "synthetic", path: join(modelDir, "synthetic.gguf"), tokens: 200 };
  let syntheticInfo: ThroughputModelInfo | undefined;
  const writeStarted = performance.now();
  try {
    syntheticInfo = await writeThroughputModel(synthetic.path);
    const m = syntheticInfo.parameters / 1e6;
    synthetic.label = `synthetic llama ${m.toFixed(0)}M ${syntheticInfo.shape.tensorType}`;
  } catch (err) {
    synthetic.failed = `not written: ${(err as Error).message.slice(0, 200)}`;
  }
  const syntheticWriteMs = performance.now() - writeStarted;
  localModels.push(synthetic);
  const localFile = join(dir, "local.yaml");
  const modelEntries = localModels
    .filter((m) => !m.failed)
    .map((m) => `${m.name}: { path: "${m.path}", contextSize: 1024 }`)
    .join(", ");
  writeFileSync(
    localFile,
    [
      "health: { probeIntervalMs: 0 }",
      "providers:",
      `  local: { kind: llamacpp, threads: 1, parallel: 1, models: { ${modelEntries} } }`,
      `  up: { kind: openai, baseUrl: "${upstreamUrl}/v1", models: [bench] }`,
      "routes:",
      `  hung: { tiers: [local/stories, up/bench], retry: { attempts: 1 }, timeouts: { idleMs: ${LOCAL_IDLE_MS} } }`,
      "",
    ].join("\n"),
  );
  const local = await start(
    [join(ROOT, "dist/cli/main.js"), "serve", "--config", localFile, "--port", "0"],
    { HOME: dir, XDG_DATA_HOME: dir, OLLAMA_HOST: "127.0.0.1:9" },
    { logTo: join(dir, "local.log") },
  ).catch((err: Error) => err);
  const localUrl = local instanceof Error ? "" : `http://127.0.0.1:${local.port}`;
  const enginePid = async () => {
    const status = (await (await fetch(`${localUrl}/v1/status`)).json()) as { providers: { engine?: { pid?: number } }[] };
    const pid = status.providers.find((p) => p.engine?.pid)?.engine?.pid;
    if (!pid) throw new Error("the engine is not running");
    return pid;
  };
  let localFailure = local instanceof Error ? `not run: ${local.message.slice(0, 200)}` : "";
  if (localUrl) {
    for (const m of localModels.filter((x) => !x.failed)) {
      await throughTandem(localUrl, `local/${m.name}`, m.tokens).catch((err: Error) => (m.failed = err.message.slice(0, 200)));
    }
  }
  // Portkey binds every interface (it has no host option); it is only ever called on 127.0.0.1.
  const portkeyPort = await freePort();
  const portkey = await start(
    [...PORTKEY_PRELOAD, PORTKEY, `--port=${portkeyPort}`, "--headless"],
    { NODE_ENV: "production" },
    {
      logTo: join(dir, "portkey.log"),
      port: portkeyPort,
    },
  ).catch((err: Error) => err);

  const json = { "content-type": "application/json" };
  const pool = (port: number) => new Pool(`http://127.0.0.1:${port}`, { connections: CONNECTIONS });
  const paths: Path[] = [
    { name: "direct", pool: pool(up.port), path: "/v1/chat/completions", headers: json, body: chatBody("bench"), failed: {} },
    {
      name: "bare proxy",
      pool: pool(bare.port),
      path: "/v1/chat/completions",
      headers: json,
      body: chatBody("bench"),
      pid: bare.child.pid,
      failed: {},
    },
    {
      name: "fastify proxy",
      pool: pool(fastify.port),
      path: "/v1/chat/completions",
      headers: json,
      body: chatBody("bench"),
      pid: fastify.child.pid,
      failed: {},
    },
    {
      name: "tandem",
      pool: pool(tandem.port),
      path: "/v1/chat/completions",
      headers: json,
      body: chatBody("up/bench"),
      pid: tandem.child.pid,
      failed: {},
    },
    {
      name: "tandem (whole)",
      pool: pool(wholeTandem.port),
      path: "/v1/chat/completions",
      headers: json,
      body: chatBody("whole"),
      pid: wholeTandem.child.pid,
      failed: {},
    },
    {
      name: "tandem (no store)",
      pool: pool(noStore.port),
      path: "/v1/chat/completions",
      headers: json,
      body: chatBody("up/bench"),
      pid: noStore.child.pid,
      failed: {},
    },
    {
      name: "floor server",
      pool: pool(floor.port),
      path: "/v1/chat/completions",
      headers: json,
      body: chatBody("up/bench"),
      pid: floor.child.pid,
      failed: {},
    },
    {
      name: "minimal gateway",
      pool: pool(minimal.port),
      path: "/v1/chat/completions",
      headers: json,
      body: chatBody("up/bench"),
      pid: minimal.child.pid,
      failed: {},
    },
  ];
  if (!(portkey instanceof Error)) {
    paths.push({
      name: "portkey",
      pool: pool(portkey.port),
      path: "/v1/chat/completions",
      headers: {
        ...json,
        "x-portkey-provider": "openai",
        "x-portkey-custom-host": `${upstreamUrl}/v1`,
        authorization: "Bearer unused",
      },
      body: chatBody("bench"),
      pid: portkey.child.pid,
      failed: {},
    });
  }
  // Dialect translation: an Anthropic Messages request, answered by an OpenAI upstream (translated)
  // or by an Anthropic upstream (native), both through tandem.
  const anthropicHeaders = { ...json, "anthropic-version": "2023-06-01" };
  const translation: Path[] = [
    {
      name: "native",
      pool: pool(tandem.port),
      path: "/v1/messages",
      headers: anthropicHeaders,
      body: messagesBody("claude/bench"),
      failed: {},
    },
    {
      name: "translated",
      pool: pool(tandem.port),
      path: "/v1/messages",
      headers: anthropicHeaders,
      body: messagesBody("up/bench"),
      failed: {},
    },
  ];

  const responsesGroup = responsesPaths(up.port, tandem.port, tandem.child.pid);

  // Warm up every path (JIT, pools, sockets).
  for (let i = 0; i < WARMUP; i++) {
    const stream = i % 2 === 0;
    for (const p of [...paths, ...translation, ...responsesGroup])
      await guarded(p, `warmup ${stream ? "streamed" : "whole"}`, () => once(p, stream).then(() => {}));
  }

  // The store is on in `tandem` (every warm-up body audited) and off in `tandem (no store)`.
  const auditRows = async (port: number) => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/audit?limit=1000`);
    return res.status === 200 ? ((await res.json()) as { data: unknown[] }).data.length : -res.status;
  };
  const storeCheck = { tandemAuditRows: await auditRows(tandem.port), noStoreAudit: await auditRows(noStore.port) };
  if (storeCheck.tandemAuditRows <= 0)
    throw new Error(`tandem's store is not recording the egress audit (${storeCheck.tandemAuditRows})`);

  const stallBodies = stallShapes(STALL_BODY_BYTES, "stall");
  const stallFailures: Record<string, string> = {};
  const reps: Record<string, Stats>[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const r: Record<string, Stats> = {};
    const stat = (name: string) => {
      r[name] ??= {};
      return r[name] as Stats;
    };
    // Classification cost, in this process while every server is idle.
    for (const c of classifyRequests) stat("privacy")[c.key] = privacy.classifyMicros(c.request, c.calls);
    // Sequential, interleaved so drift hits every path alike.
    const lat: Record<string, number[]> = {};
    for (let i = 0; i < SEQUENTIAL; i++) {
      for (const p of i % 2 === 0 ? paths : [...paths].reverse()) {
        await guarded(p, "sequential", async () => {
          const { ms } = await once(p, false);
          lat[p.name] ??= [];
          lat[p.name]?.push(ms);
        });
      }
    }
    // Streaming: time to first byte, whole stream, and whether every chunk came through.
    const ttfb: Record<string, number[]> = {};
    for (let i = 0; i < STREAMS; i++) {
      for (const p of paths) {
        await guarded(p, "stream", async () => {
          const s = await once(p, true);
          ttfb[p.name] ??= [];
          ttfb[p.name]?.push(s.ttfbMs);
          stat(p.name).streamEvents = s.events;
        });
      }
    }
    // Paced streams: per-chunk delay.
    const lateness: Record<string, number[]> = {};
    for (let i = 0; i < PACED_STREAMS; i++) {
      for (const p of paths) {
        await guarded(p, "paced stream", async () => {
          const late = await pacedOnce(p);
          lateness[p.name] ??= [];
          lateness[p.name]?.push(...late);
        });
      }
    }
    for (const p of paths) {
      const s = stat(p.name);
      s.chunkLatenessP50 = percentile(lateness[p.name] ?? [], 50);
      s.chunkLatenessP99 = percentile(lateness[p.name] ?? [], 99);
      s.p50 = percentile(lat[p.name] ?? [], 50);
      s.p99 = percentile(lat[p.name] ?? [], 99);
      s.ttfbP50 = percentile(ttfb[p.name] ?? [], 50);
    }
    // Dialect translation cost, sequential and interleaved.
    const tl: Record<string, number[]> = {};
    for (let i = 0; i < SEQUENTIAL; i++) {
      for (const p of translation) {
        await guarded(p, "sequential", async () => {
          const { ms } = await once(p, i % 2 === 0);
          tl[p.name] ??= [];
          tl[p.name]?.push(ms);
        });
      }
    }
    for (const p of translation) stat(`anthropic ${p.name}`).p50 = percentile(tl[p.name] ?? [], 50);
    // The Responses API's overhead beside chat completions'.
    for (const [n, v] of Object.entries(await sequentialLatencies(responsesGroup, SEQUENTIAL, "responses"))) {
      Object.assign(stat(`responses/${n}`), v);
    }
    // Throughput at CONNECTIONS concurrent requests, each path alone, for a fixed time.
    for (const p of paths) {
      await guarded(p, "load", async () => {
        const s = stat(p.name);
        const load = await underLoad(p);
        s.rps = load.rps;
        if (load.cpuMsPerRequest !== undefined) s.cpuMsPerRequest = load.cpuMsPerRequest;
        if (load.rssMiB !== undefined) s.loadedRssMiB = load.rssMiB;
      });
    }
    Object.assign(stat("resilience"), await resilience(breakerClosed, breakerOpen));
    // One maximal body at a time, while /health is asked every ~10 ms on its own connection.
    for (const shape of stallBodies) {
      const r = await measureStall(`http://127.0.0.1:${tandem.port}`, shape).catch((err: Error) => err);
      if (r instanceof Error) {
        stallFailures[shape.key] = r.message.slice(0, 200);
        continue;
      }
      Object.assign(stat("stall"), {
        [`${shape.key}.healthMax`]: r.healthMaxMs,
        [`${shape.key}.healthP99`]: r.healthP99Ms,
        [`${shape.key}.requestMs`]: r.requestMs,
        [`${shape.key}.status`]: r.status,
      });
    }
    if (localUrl && !localFailure) {
      for (const m of localModels.filter((x) => !x.failed)) {
        let directEngine: DirectEngine | undefined;
        try {
          directEngine = await DirectEngine.start(
            import.meta.resolve("tsx"),
            join(ROOT, "bench/local-direct.ts"),
            m.path,
            m.tokens,
          );
          // Not measured: the engine may have been restarted since (the hung-model figure kills it).
          await throughTandem(localUrl, `local/${m.name}`, 10);
          const runs = await compareLocal(localUrl, `local/${m.name}`, directEngine, m.tokens, LOCAL_RUNS);
          const med = (list: LocalRun[], k: keyof LocalRun) =>
            percentile(
              list.map((x) => x[k]),
              50,
            );
          const tandemTps = med(runs.tandem, "tokensPerSecond");
          const directTps = med(runs.direct, "tokensPerSecond");
          Object.assign(stat(`local ${m.name}`), {
            tandemTps,
            directTps,
            tandemTtft: med(runs.tandem, "ttftMs"),
            directTtft: med(runs.direct, "ttftMs"),
            addedUsPerToken: (1 / tandemTps - 1 / directTps) * 1e6,
            fewestTokens: Math.min(...runs.tandem.map((x) => x.tokens), ...runs.direct.map((x) => x.tokens)),
          });
        } catch (err) {
          m.failed = (err as Error).message.slice(0, 200);
        } finally {
          directEngine?.close();
        }
      }
      try {
        stat("local").hungGap = await hungModelGap(localUrl, "hung", enginePid);
        // The hung engine was killed; the next request starts a new one (not measured).
        await throughTandem(localUrl, "local/stories", 10);
      } catch (err) {
        localFailure = (err as Error).message;
      }
    }
    reps.push(r);
    process.stderr.write(`rep ${rep + 1}/${REPS} done\n`);
  }

  // Median and spread over repetitions of each figure, and the ratios the targets are set in.
  const summary: Record<string, { median: number; min: number; max: number }> = {};
  const metric = (key: string, f: (r: Record<string, Stats>) => number) => {
    const values = reps.map(f).filter((v) => Number.isFinite(v));
    if (values.length > 0) summary[key] = { median: percentile(values, 50), min: Math.min(...values), max: Math.max(...values) };
  };
  const names = paths.map((p) => p.name);
  for (const n of [...names, "anthropic native", "anthropic translated"]) {
    for (const k of [
      "p50",
      "p99",
      "ttfbP50",
      "rps",
      "streamEvents",
      "cpuMsPerRequest",
      "loadedRssMiB",
      "chunkLatenessP50",
      "chunkLatenessP99",
    ]) {
      metric(`${n}.${k}`, (r) => r[n]?.[k] as number);
    }
  }
  const added = (r: Record<string, Stats>, n: string, k: string) => (r[n]?.[k] as number) - (r.direct?.[k] as number);
  for (const n of names.filter((x) => x !== "direct")) {
    metric(`${n}.addedP50`, (r) => added(r, n, "p50"));
    metric(`${n}.addedP99`, (r) => added(r, n, "p99"));
    metric(`${n}.addedTtfbP50`, (r) => added(r, n, "ttfbP50"));
    metric(`${n}.addedChunkDelayP50`, (r) => added(r, n, "chunkLatenessP50"));
  }
  const noStoreName = "tandem (no store)";
  metric("audit.addedP50", (r) => (r.tandem?.p50 as number) - (r[noStoreName]?.p50 as number));
  metric("audit.addedP99", (r) => (r.tandem?.p99 as number) - (r[noStoreName]?.p99 as number));
  metric("audit.addedTtfbP50", (r) => (r.tandem?.ttfbP50 as number) - (r[noStoreName]?.ttfbP50 as number));
  metric("audit.rpsRatio", (r) => (r.tandem?.rps as number) / (r[noStoreName]?.rps as number));
  metric("ratio.tandemOverBareAddedP50", (r) => added(r, "tandem", "p50") / added(r, "bare proxy", "p50"));
  metric("ratio.floorOverBareAddedP50", (r) => added(r, "floor server", "p50") / added(r, "bare proxy", "p50"));
  metric("ratio.floorOverPortkeyAddedP50", (r) => added(r, "floor server", "p50") / added(r, "portkey", "p50"));
  metric(
    "ratio.floorOverPortkeyCpu",
    (r) => (r["floor server"]?.cpuMsPerRequest as number) / (r.portkey?.cpuMsPerRequest as number),
  );
  metric("ratio.minimalOverBareAddedP50", (r) => added(r, "minimal gateway", "p50") / added(r, "bare proxy", "p50"));
  metric("ratio.minimalOverPortkeyAddedP50", (r) => added(r, "minimal gateway", "p50") / added(r, "portkey", "p50"));
  metric(
    "ratio.minimalOverPortkeyCpu",
    (r) => (r["minimal gateway"]?.cpuMsPerRequest as number) / (r.portkey?.cpuMsPerRequest as number),
  );
  metric("ratio.bareOverPortkeyAddedP50", (r) => added(r, "bare proxy", "p50") / added(r, "portkey", "p50"));
  metric(
    "ratio.bareOverPortkeyCpu",
    (r) => (r["bare proxy"]?.cpuMsPerRequest as number) / (r.portkey?.cpuMsPerRequest as number),
  );
  metric("ratio.tandemOverPortkeyAddedP50", (r) => added(r, "tandem", "p50") / added(r, "portkey", "p50"));
  metric("ratio.tandemOverPortkeyAddedP99", (r) => added(r, "tandem", "p99") / added(r, "portkey", "p99"));
  metric("ratio.tandemOverPortkeyCpu", (r) => (r.tandem?.cpuMsPerRequest as number) / (r.portkey?.cpuMsPerRequest as number));
  const whole = "tandem (whole)";
  metric("ratio.wholeOverBareAddedP50", (r) => added(r, whole, "p50") / added(r, "bare proxy", "p50"));
  metric("ratio.wholeOverPortkeyAddedP50", (r) => added(r, whole, "p50") / added(r, "portkey", "p50"));
  metric("ratio.wholeOverPortkeyAddedP99", (r) => added(r, whole, "p99") / added(r, "portkey", "p99"));
  metric("ratio.wholeOverPortkeyCpu", (r) => (r[whole]?.cpuMsPerRequest as number) / (r.portkey?.cpuMsPerRequest as number));
  for (const k of ["healthyTtfbP50", "failoverClosedGapP50", "failoverOpenGapP50", "switchGapP50", "switchTotalExtraP50"]) {
    metric(`resilience.${k}`, (r) => r.resilience?.[k] as number);
  }
  metric("local.hungGap", (r) => r.local?.hungGap as number);
  for (const shape of stallBodies) {
    for (const k of ["healthMax", "healthP99", "requestMs", "status"]) {
      metric(`stall.${shape.key}.${k}`, (r) => r.stall?.[`${shape.key}.${k}`] as number);
    }
  }
  for (const m of localModels) {
    const n = `local ${m.name}`;
    for (const k of ["tandemTps", "directTps", "tandemTtft", "directTtft", "addedUsPerToken", "fewestTokens"])
      metric(`local.${m.name}.${k}`, (r) => r[n]?.[k] as number);
    metric(`ratio.localTps.${m.name}`, (r) => (r[n]?.tandemTps as number) / (r[n]?.directTps as number));
  }
  for (const c of classifyRequests) metric(`privacy.${c.key}Us`, (r) => r.privacy?.[c.key] as number);
  metric("translation.addedP50", (r) => (r["anthropic translated"]?.p50 as number) - (r["anthropic native"]?.p50 as number));
  responsesSummary(reps, summary, responsesGroup);

  const conditions = runConditions(loadAtStart, {
    streamsPerRep: STREAMS,
    loadSeconds: LOAD_SECONDS,
    connections: CONNECTIONS,
    chunksPerStream: CHUNKS,
    pacedStreamsPerRep: PACED_STREAMS,
    paceMs: PACE_MS,
    tandemIdleRssMiB: tandemIdleRss,
    localModels: localModels.map((m) => ({ name: m.name, label: m.label, path: m.path, tokens: m.tokens, failed: m.failed })),
    syntheticModel: syntheticInfo && {
      parameters: syntheticInfo.parameters,
      fileBytes: syntheticInfo.fileSize,
      shape: syntheticInfo.shape,
      writeMs: syntheticWriteMs,
    },
    localRunsPerRep: LOCAL_RUNS,
    classifyRequests: classifyRequests.map((c) => ({ bytes: c.actualBytes, calls: c.calls, found: c.found })),
    store: storeCheck,
    portkey: portkey instanceof Error ? `not run: ${portkey.message.slice(0, 200)}` : "@portkey-ai/gateway 1.15.2",
  });
  const fmt = (k: string, unit = "ms", digits = 3) => {
    const s = summary[k];
    return s ? `${s.median.toFixed(digits)}${unit ? ` ${unit}` : ""} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})` : "n/a";
  };
  const localRow = (label: string, cell: (m: LocalModel) => string) => `| ${label} | ${localModels.map(cell).join(" | ")} |`;
  const perToken = (tpsKey: string) => {
    const s = summary[tpsKey];
    return s ? `${(1000 / s.median).toFixed(2)} ms` : "n/a";
  };
  const row = (label: string, key: string, unit?: string, digits?: number, skipDirect = false) =>
    `| ${label} | ${names.map((n) => (skipDirect && n === "direct" ? "–" : fmt(`${n}.${key}`, unit, digits))).join(" | ")} |`;
  const failures = [...paths, ...translation, ...responsesGroup].flatMap((p) =>
    Object.entries(p.failed).map(([s, why]) => `- ${p.name}, ${s}: ${why}`),
  );
  const md = [
    "# tandem benchmark",
    "",
    `Node ${conditions.node}, ${conditions.cores} cores, ${REPS} repetitions; each figure is the median over repetitions (min–max).`,
    `Every path first takes ${WARMUP} warm-up requests. Sequential: ${SEQUENTIAL} non-streamed requests per path per repetition, interleaved. Streams: ${STREAMS} per path, ${CHUNKS} content chunks each.`,
    `Load: ${CONNECTIONS} connections for ${LOAD_SECONDS} s per path. Everything on 127.0.0.1; the upstream is a fixed-answer fake, configured in tandem as remote (\`local: false\`) as a cloud API is, so tandem classifies each request for privacy. Portkey: ${conditions.portkey}.`,
    `Load average (1 min) at the start ${conditions.loadAverage1m.start.toFixed(2)}, at the end ${conditions.loadAverage1m.end.toFixed(2)} (well above 0: something else shared the cores).`,
    "",
    `| | ${names.join(" | ")} |`,
    `|---|${names.map(() => "---").join("|")}|`,
    row("p50 latency", "p50"),
    row("p99 latency", "p99"),
    row("added p50", "addedP50", "ms", 3, true),
    row("added p99", "addedP99", "ms", 3, true),
    row("stream: time to first byte p50", "ttfbP50"),
    row("stream: added time to first byte p50", "addedTtfbP50", "ms", 3, true),
    row("stream: SSE events received", "streamEvents", "", 0),
    row(`paced stream (words ${PACE_MS} ms apart): delay behind schedule p50`, "chunkLatenessP50"),
    row("paced stream: delay behind schedule p99", "chunkLatenessP99"),
    row("paced stream: added per-chunk delay p50", "addedChunkDelayP50", "ms", 3, true),
    row(`requests/s at ${CONNECTIONS} connections`, "rps", "", 0),
    row("gateway CPU per request", "cpuMsPerRequest", "ms", 3, true),
    row("gateway RSS under load", "loadedRssMiB", "MiB", 0, true),
    "",
    "Targets, as ratios from this run:",
    `- tandem added p50 / bare proxy added p50: **${fmt("ratio.tandemOverBareAddedP50", "x", 2)}** (target at most 1.5x)`,
    `- tandem added p50 / Portkey added p50: **${fmt("ratio.tandemOverPortkeyAddedP50", "x", 2)}**, p99: **${fmt("ratio.tandemOverPortkeyAddedP99", "x", 2)}** (target under 0.25x)`,
    `- tandem CPU per request / Portkey's: **${fmt("ratio.tandemOverPortkeyCpu", "x", 2)}** (target at most 0.1x)`,
    `- the same with whole upstream answers (\`streamUpstream: false\`): ${fmt("ratio.wholeOverBareAddedP50", "x", 2)} the bare proxy's added p50; ${fmt("ratio.wholeOverPortkeyAddedP50", "x", 2)} and ${fmt("ratio.wholeOverPortkeyAddedP99", "x", 2)} Portkey's at p50 and p99; CPU ${fmt("ratio.wholeOverPortkeyCpu", "x", 2)} Portkey's`,
    `- what the targets ask of any gateway: the \`floor server\` (bench/floor-server.ts: tandem's own code for only the steps this request needs, parse, validate, classify, audit, tap, answer, log, on a bare node:http server with none of the router's machinery) is ${fmt("ratio.floorOverBareAddedP50", "x", 2)} the bare proxy's added p50, ${fmt("ratio.floorOverPortkeyAddedP50", "x", 2)} Portkey's, CPU ${fmt("ratio.floorOverPortkeyCpu", "x", 2)} Portkey's; the \`minimal gateway\` (bench/minimal-gateway.ts: the bare proxy plus only what the targets require of every request, the privacy classification and the audit row on disk before the body leaves, its answer relayed unread) is ${fmt("ratio.minimalOverBareAddedP50", "x", 2)} the bare proxy's added p50, ${fmt("ratio.minimalOverPortkeyAddedP50", "x", 2)} Portkey's, CPU ${fmt("ratio.minimalOverPortkeyCpu", "x", 2)} Portkey's; the bare proxy itself, which does none of the work, is ${fmt("ratio.bareOverPortkeyAddedP50", "x", 2)} Portkey's added p50 and ${fmt("ratio.bareOverPortkeyCpu", "x", 2)} its CPU`,
    "",
    `Egress audit before egress (\`tandem\` with its encrypted store, every body's audit row on disk (in the audit journal) before it is sent and committed with the next batch, against \`tandem (no store)\`, the same config with \`store.enabled: false\`; ${storeCheck.tandemAuditRows} audit rows after warm-up): the store adds ${fmt("audit.addedP50")} at p50 and ${fmt("audit.addedP99")} at p99 per sequential request, ${fmt("audit.addedTtfbP50")} to the time to first byte of a stream; at ${CONNECTIONS} connections, requests/s with the store ${fmt("audit.rpsRatio", "x", 2)} of those without (the request log, usage and audit rows are committed in batches on the store's thread).`,
    "",
    `Dialect translation (Anthropic Messages request through tandem, p50): native Anthropic upstream ${fmt("anthropic native.p50")}, OpenAI upstream (translated) ${fmt("anthropic translated.p50")}; translation adds ${fmt("translation.addedP50")}.`,
    "",
    ...responsesMarkdown(summary, responsesGroup, SEQUENTIAL),
    "",
    "Resilience (through tandem, streamed, p50; a dead first tier refuses connections):",
    `- time to first byte, healthy route: ${fmt("resilience.healthyTtfbP50")}`,
    `- failover gap (extra time to first byte) with a dead first tier, breaker closed: ${fmt("resilience.failoverClosedGapP50")}; breaker open: ${fmt("resilience.failoverOpenGapP50")}`,
    `- mid-stream switch gap (last word before the break to first word after it): ${fmt("resilience.switchGapP50")}; whole stream, extra over a healthy one: ${fmt("resilience.switchTotalExtraP50")}`,
    `- hung local model (engine frozen with SIGSTOP mid-stream, route idle limit ${LOCAL_IDLE_MS} ms): first token from the next tier ${fmt("local.hungGap")} after the freeze`,
    "",
    `Local engine: through tandem (OpenAI streaming over HTTP, engine in its child process) against node-llama-cpp directly (its own process, same model, 1 thread, context 1024, chat wrapper, greedy), ${LOCAL_RUNS} warm runs of each per repetition, alternating one by one; every prompt is new to the engine, so time to first token includes evaluating it${localFailure ? `. Failed: ${localFailure}` : ""}.`,
    "",
    `| | ${localModels.map((m) => m.label).join(" | ")} |`,
    `|---|${localModels.map(() => "---").join("|")}|`,
    localRow("tokens per run (fewest any run produced)", (m) => {
      const fewest = summary[`local.${m.name}.fewestTokens`]?.min;
      return `${m.tokens} (${fewest ?? "n/a"}${fewest !== undefined && fewest < m.tokens ? ": stopped early, tokens/s still per token produced" : ""})`;
    }),
    localRow("tokens/s through tandem", (m) => fmt(`local.${m.name}.tandemTps`, "tok/s", 1)),
    localRow("tokens/s directly", (m) => fmt(`local.${m.name}.directTps`, "tok/s", 1)),
    localRow("ratio (target at least 0.97x)", (m) => `**${fmt(`ratio.localTps.${m.name}`, "x", 3)}**`),
    localRow("time per token directly", (m) => perToken(`local.${m.name}.directTps`)),
    localRow("tandem's added time per token", (m) => fmt(`local.${m.name}.addedUsPerToken`, "µs", 0)),
    localRow("time to first token through tandem", (m) => fmt(`local.${m.name}.tandemTtft`, "ms", 1)),
    localRow("time to first token directly", (m) => fmt(`local.${m.name}.directTtft`, "ms", 1)),
    "",
    syntheticInfo
      ? `The synthetic model is written for this run (${(syntheticInfo.fileSize / 1e6).toFixed(0)} MB, in ${(syntheticWriteMs / 1000).toFixed(1)} s, deleted afterwards): llama architecture, n_embd ${syntheticInfo.shape.embeddingLength}, ${syntheticInfo.shape.blockCount} blocks, FFN ${syntheticInfo.shape.feedForwardLength}, ${syntheticInfo.shape.headCount} heads (${syntheticInfo.shape.headCountKv} KV), vocabulary ${syntheticInfo.shape.vocabSize}, ${syntheticInfo.shape.tensorType} weights, ${(syntheticInfo.parameters / 1e6).toFixed(1)}M in all; dense pseudo-random blocks, greedy output a fixed chain of distinct tokens that never reaches EOS (test/support/gguf/throughput-model.ts).`
      : `The synthetic model: ${synthetic.failed}.`,
    ...localModels.filter((m) => m.failed).map((m) => `- ${m.label}: ${m.failed}`),
    "",
    `Privacy: detection on the labelled set (src/privacy/eval, ${detection.examples} examples, ${detection.negatives} of them with nothing to find; ${detection.overall.expected} labelled values). A finding counts when its kind and exact value are labelled.`,
    "",
    "| kind | labelled | tp | fp | fn | precision | recall | F1 |",
    "|---|---|---|---|---|---|---|---|",
    ...[...detection.perKind, { kind: "**all**", ...detection.overall }].map(
      (k) =>
        `| ${k.kind} | ${k.expected} | ${k.tp} | ${k.fp} | ${k.fn} | ${k.precision.toFixed(3)} | ${k.recall.toFixed(3)} | ${k.f1.toFixed(3)} |`,
    ),
    "",
    `Privacy: classifyRequest on a typical chat request (system prompt, prose, code, an assistant tool call, a JSON tool result, log lines; an email address, a phone number and a private IP in it), in-process, built code, median per call: ${classifyRequests
      .map(
        (c) =>
          `${(c.actualBytes / 1024).toFixed(1)} KB ${fmt(`privacy.${c.key}Us`, "µs", 1)} (found ${Object.entries(c.found.counts)
            .map(([k, v]) => `${v} ${k}`)
            .join(", ")}: ${c.found.level})`,
      )
      .join("; ")}.`,
    "",
    `No request stalls the others: one body of ${(STALL_BODY_BYTES / 2 ** 20).toFixed(0)} MiB (the default \`server.bodyLimit\`) at a time, through tandem to the fake upstream (classified for privacy, sent, audited), while \`/health\` is asked about every 10 ms on its own connection; /health answer time while the body is handled (target: max under 250 ms):`,
    "",
    "| body | /health max | /health p99 | the big request took | its status |",
    "|---|---|---|---|---|",
    ...stallBodies.map(
      (shape) =>
        `| ${shape.label} | **${fmt(`stall.${shape.key}.healthMax`, "ms", 0)}** | ${fmt(`stall.${shape.key}.healthP99`, "ms", 0)} | ${fmt(`stall.${shape.key}.requestMs`, "ms", 0)} | ${stallFailures[shape.key] ? `failed: ${stallFailures[shape.key]}` : fmt(`stall.${shape.key}.status`, "", 0)} |`,
    ),
    "",
    `Memory: tandem idle ${tandemIdleRss.toFixed(0)} MiB RSS; under load see the table.`,
    "",
    "`tandem` is the default configuration: it streams from its upstream even for a client that does not stream, so its",
    "first-token and idle limits watch every request; for a non-streamed request it parses and gathers a stream where the",
    "other paths copy one JSON body. `tandem (whole)` is the same configuration on a route with `streamUpstream: false`, which asks",
    "the upstream for a whole answer when the client does not stream (streamed requests are the same as `tandem`'s); it runs in a",
    "server of its own, as every path does, so that no gateway process gets more of the interleaved requests than another.",
    ...(failures.length > 0 ? ["", "Scenarios that failed (first error):", ...failures] : []),
    "",
  ].join("\n");
  process.stdout.write(`${md}\n`);
  mkdirSync(join(ROOT, "bench/results"), { recursive: true });
  writeFileSync(
    join(ROOT, "bench/results/latest.json"),
    `${JSON.stringify({ conditions, summary, privacy: { detection }, reps, failures }, null, 2)}\n`,
  );
  writeFileSync(join(ROOT, "bench/results/latest.md"), md);
  for (const p of [...paths, ...translation, ...responsesGroup]) await p.pool.close();
  await breakerClosed.close();
  await breakerOpen.close();
}

/** One streamed request: when its first byte came, when each piece came, and the whole text. */
async function streamed(
  pool: Pool,
  model: string,
): Promise<{ ttfbMs: number; totalMs: number; pieces: { at: number; text: string }[] }> {
  const t0 = performance.now();
  const res = await pool.request({
    method: "POST",
    path: "/v1/chat/completions",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "Say something short." }], stream: true }),
  });
  const pieces: { at: number; text: string }[] = [];
  for await (const piece of res.body) pieces.push({ at: performance.now() - t0, text: piece.toString() });
  if (res.statusCode !== 200)
    throw new Error(
      `HTTP ${res.statusCode}: ${pieces
        .map((p) => p.text)
        .join("")
        .slice(0, 200)}`,
    );
  return { ttfbMs: pieces[0]?.at ?? Number.NaN, totalMs: performance.now() - t0, pieces };
}

/** Failover and mid-stream switch figures, from the two resilience tandems. */
async function resilience(closed: Pool, open: Pool): Promise<Stats> {
  const n = Math.max(20, Math.round(STREAMS / 3));
  const healthy: number[] = [];
  const healthyOpen: number[] = [];
  const healthyTotal: number[] = [];
  const failClosed: number[] = [];
  const failOpen: number[] = [];
  const gaps: number[] = [];
  const switchTotal: number[] = [];
  for (let i = 0; i < 50; i++) {
    await streamed(closed, "healthy");
    await streamed(open, i < 10 ? "failover" : "healthy"); // the first failovers open the dead target's breaker
  }
  for (let i = 0; i < n; i++) {
    const h = await streamed(closed, "healthy");
    healthy.push(h.ttfbMs);
    healthyTotal.push(h.totalMs);
    failClosed.push((await streamed(closed, "failover")).ttfbMs);
    failOpen.push((await streamed(open, "failover")).ttfbMs);
    healthyOpen.push((await streamed(open, "healthy")).ttfbMs);
    const m = await streamed(closed, "midstream");
    switchTotal.push(m.totalMs);
    const seam = m.pieces.findIndex((p) => p.text.includes(": tandem switched"));
    if (seam >= 0) {
      const before = m.pieces.slice(0, seam + 1).filter((p) => p.text.split(": tandem switched")[0]?.includes("word"));
      const after = m.pieces.slice(seam).find((p) => (p.text.split(": tandem switched")[1] ?? p.text).includes("word"));
      const last = before.at(-1);
      if (last && after) gaps.push(after.at - last.at);
    }
  }
  const h50 = percentile(healthy, 50);
  return {
    healthyTtfbP50: h50,
    failoverClosedGapP50: percentile(failClosed, 50) - h50,
    failoverOpenGapP50: percentile(failOpen, 50) - percentile(healthyOpen, 50),
    switchGapP50: percentile(gaps, 50),
    switchTotalExtraP50: percentile(switchTotal, 50) - percentile(healthyTotal, 50),
  };
}

/** bench/floor-server.ts over the fake upstream, its audit journal in a folder of `dir`. */
function startFloorServer(upstreamUrl: string, dir: string) {
  const journalDir = join(dir, "floor-server");
  mkdirSync(journalDir);
  // Its log lines to a file, as tandem's go (a pipe would have this process, the client, read each one).
  return start(["--import", "tsx", join(ROOT, "bench/floor-server.ts")], {
    BENCH_UPSTREAM: upstreamUrl,
    BENCH_FLOOR_DIR: journalDir,
    BENCH_FLOOR_LOG: join(dir, "floor-server.log"),
  });
}

/**
 * bench/minimal-gateway.ts over the fake upstream (the bare proxy plus the privacy classification and
 * the audit row, the upstream asked as the client asks), its audit journal in a folder of `dir`.
 */
function startMinimalGateway(upstreamUrl: string, dir: string) {
  const journalDir = join(dir, "minimal-gateway");
  mkdirSync(journalDir);
  return start(["--import", "tsx", join(ROOT, "bench/minimal-gateway.ts")], {
    BENCH_UPSTREAM: upstreamUrl,
    BENCH_FLOOR_DIR: journalDir,
  });
}

/**
 * The bench's fake upstream and one tandem from dist/ over it, configured as the full run's `tandem`
 * is (the upstream remote, with a key, the store on), plus `extraConfig` lines: what the
 * `BENCH_ONLY` runs measure. The temporary folder is removed when the bench exits.
 */
async function startOneTandem(
  extraConfig: string[] = [],
  options: { up?: { port: number }; store?: boolean; nodeArgs?: string[]; dist?: string } = {},
) {
  const up = options.up ?? (await start(["--import", "tsx", join(ROOT, "bench/upstream.ts")], { BENCH_CHUNKS: String(CHUNKS) }));
  const dir = mkdtempSync(join(tmpdir(), "tandem-bench-"));
  tempDirs.push(dir);
  const tandem = await startBenchTandem(
    dir,
    benchTandemConfig(`http://127.0.0.1:${up.port}`, join(dir, "data"), { store: options.store, extra: extraConfig }),
    { nodeArgs: options.nodeArgs, dist: options.dist },
  );
  return { up, tandem };
}

/**
 * The run's conditions, as every report states them; `extra` adds what only the full run knows.
 * The load average before and after: well above 0 means something else used the cores too.
 */
function runConditions<Extra extends object>(loadAtStart: number[], extra?: Extra) {
  return {
    date: new Date().toISOString(),
    node: process.version,
    cores: cpus().length,
    reps: REPS,
    sequentialPerRep: SEQUENTIAL,
    warmupPerPath: WARMUP,
    ...(extra as Extra),
    loadAverage1m: { start: loadAtStart[0] ?? Number.NaN, end: loadavg()[0] ?? Number.NaN },
  };
}

/**
 * `BENCH_ONLY=stall`: the /health stall figures alone (one tandem with its store, on a route that
 * classifies for privacy as the full run's does), one line per run; `STALL_REPS` runs of each shape
 * (default 3), `STALL_SHAPES=image,oneText` to pick shapes.
 */
async function stallOnly(): Promise<void> {
  const { tandem } = await startOneTandem(["routes:", "  stall: { tiers: [up/bench], privacy: allow }"]);
  const reps = Number(process.env.STALL_REPS ?? 3);
  const shapes = process.env.STALL_SHAPES?.split(",");
  for (const shape of stallShapes(STALL_BODY_BYTES, "stall")) {
    if (shapes && !shapes.includes(shape.key)) continue;
    for (let rep = 0; rep < reps; rep++) {
      const r = await measureStall(`http://127.0.0.1:${tandem.port}`, shape);
      process.stdout.write(
        `${shape.label}: /health max ${r.healthMaxMs.toFixed(0)} ms, p99 ${r.healthP99Ms.toFixed(0)} ms (${r.healthPings} pings); the request took ${r.requestMs.toFixed(0)} ms, status ${r.status}\n`,
      );
    }
  }
}

/**
 * `BENCH_ONLY=responses`: the Responses API figures alone (the upstream and one tandem with its
 * store), written to bench/results/latest-responses.{md,json}; the full run's report is left alone.
 */
async function responsesOnly(): Promise<void> {
  const loadAtStart = loadavg();
  const { up, tandem } = await startOneTandem();
  const group = responsesPaths(up.port, tandem.port, tandem.child.pid);
  for (let i = 0; i < WARMUP; i++) for (const p of group) await guarded(p, "warmup", () => once(p, false).then(() => {}));
  const reps: Record<string, Stats>[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const r: Record<string, Stats> = {};
    for (const [n, v] of Object.entries(await sequentialLatencies(group, SEQUENTIAL, "responses"))) r[`responses/${n}`] = v;
    reps.push(r);
    process.stderr.write(`rep ${rep + 1}/${REPS} done\n`);
  }
  const summary: Summary = {};
  responsesSummary(reps, summary, group);
  const failures = group.flatMap((p) => Object.entries(p.failed).map(([s, why]) => `- ${p.name}, ${s}: ${why}`));
  const conditions = runConditions(loadAtStart);
  const md = [
    "# tandem benchmark: Responses API only (BENCH_ONLY=responses)",
    "",
    `Node ${conditions.node}, ${conditions.cores} cores, ${REPS} repetitions after ${WARMUP} warm-up requests per path; each figure is the median over repetitions (min–max). Load average (1 min) at the start ${conditions.loadAverage1m.start.toFixed(2)}, at the end ${conditions.loadAverage1m.end.toFixed(2)}.`,
    "",
    ...responsesMarkdown(summary, group, SEQUENTIAL),
    ...(failures.length > 0 ? ["", "Scenarios that failed (first error):", ...failures] : []),
    "",
  ].join("\n");
  process.stdout.write(`${md}\n`);
  mkdirSync(join(ROOT, "bench/results"), { recursive: true });
  writeFileSync(
    join(ROOT, "bench/results/latest-responses.json"),
    `${JSON.stringify({ conditions, summary, reps, failures }, null, 2)}\n`,
  );
  writeFileSync(join(ROOT, "bench/results/latest-responses.md"), md);
  for (const p of group) await p.pool.close();
}

/**
 * `BENCH_ONLY=overhead`: the overhead figures alone, for the inner loop of making tandem faster:
 * direct, the bare proxy, tandem with and without its store, tandem on a route with whole upstream
 * answers (`streamUpstream: false`), the floor server, the minimal gateway, and Portkey unless `BENCH_PORTKEY=0`:
 * sequential p50/p99 and CPU per request at ${CONNECTIONS} connections, one line per path and
 * repetition. `BENCH_TANDEM_NODE_ARGS` (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) is passed to
 * the tandem with the store, `BENCH_NO_STORE_NODE_ARGS` to the one without; `BENCH_BASELINE_DIST` (a
 * `dist` folder) adds another build's tandem with its store. Nothing is written to bench/results.
 */
async function overheadOnly(): Promise<void> {
  const up = await start(["--import", "tsx", join(ROOT, "bench/upstream.ts")], { BENCH_CHUNKS: String(CHUNKS) });
  const upstreamUrl = `http://127.0.0.1:${up.port}`;
  const bare = await start(["--import", "tsx", join(ROOT, "bench/bare-proxy.ts")], { BENCH_UPSTREAM: upstreamUrl });
  const fastify = await start(["--import", "tsx", join(ROOT, "bench/fastify-proxy.ts")], { BENCH_UPSTREAM: upstreamUrl });
  const floorDir = mkdtempSync(join(tmpdir(), "tandem-bench-floor-"));
  tempDirs.push(floorDir);
  const floor = await startFloorServer(upstreamUrl, floorDir);
  const minimal = await startMinimalGateway(upstreamUrl, floorDir);
  const nodeArgs = process.env.BENCH_TANDEM_NODE_ARGS?.split(" ").filter(Boolean);
  const wholeRoute = ["routes:", "  whole: { tiers: [up/bench], streamUpstream: false }"];
  const { tandem } = await startOneTandem([], { up, nodeArgs });
  // `whole`, a route that asks the upstream for whole answers, from a server of its own: every path
  // from its own process, so none runs warmer for getting more of the interleaved requests (see main).
  const { tandem: wholeTandem } = await startOneTandem(wholeRoute, { up });
  const { tandem: noStore } = await startOneTandem([], {
    up,
    store: false,
    nodeArgs: process.env.BENCH_NO_STORE_NODE_ARGS?.split(" ").filter(Boolean),
  });
  const json = { "content-type": "application/json" };
  const pool = (port: number) => new Pool(`http://127.0.0.1:${port}`, { connections: CONNECTIONS });
  const path = (name: string, port: number, model: string, pid?: number, headers: Record<string, string> = json): Path => ({
    name,
    pool: pool(port),
    path: "/v1/chat/completions",
    headers,
    body: chatBody(model),
    pid,
    failed: {},
  });
  // Another build of tandem beside this one (e.g. main's, built in a worktree), to A/B a change on a
  // machine too busy for figures from separate runs to compare.
  const baselineDist = process.env.BENCH_BASELINE_DIST;
  const baseline = baselineDist ? (await startOneTandem([], { up, dist: baselineDist })).tandem : undefined;
  const paths = [
    path("direct", up.port, "bench"),
    path("bare proxy", bare.port, "bench", bare.child.pid),
    path("fastify proxy", fastify.port, "bench", fastify.child.pid),
    path("tandem", tandem.port, "up/bench", tandem.child.pid),
    path("tandem (whole)", wholeTandem.port, "whole", wholeTandem.child.pid),
    path("tandem (no store)", noStore.port, "up/bench", noStore.child.pid),
    path("floor server", floor.port, "up/bench", floor.child.pid),
    path("minimal gateway", minimal.port, "up/bench", minimal.child.pid),
  ];
  if (baseline) paths.push(path("tandem (baseline)", baseline.port, "up/bench", baseline.child.pid));
  if (process.env.BENCH_PORTKEY !== "0") {
    const portkeyPort = await freePort();
    const portkey = await start(
      [...PORTKEY_PRELOAD, PORTKEY, `--port=${portkeyPort}`, "--headless"],
      { NODE_ENV: "production" },
      {
        port: portkeyPort,
      },
    );
    paths.push(
      path("portkey", portkey.port, "bench", portkey.child.pid, {
        ...json,
        "x-portkey-provider": "openai",
        "x-portkey-custom-host": `${upstreamUrl}/v1`,
        authorization: "Bearer unused",
      }),
    );
  }
  for (let i = 0; i < WARMUP; i++) for (const p of paths) await guarded(p, "warmup", () => once(p, i % 2 === 0).then(() => {}));
  for (let rep = 0; rep < REPS; rep++) {
    const seq = await sequentialLatencies(paths, SEQUENTIAL, "sequential");
    const direct = seq.direct as Stats;
    for (const p of paths) {
      let line = `rep ${rep + 1} ${p.name.padEnd(18)} added p50 ${((seq[p.name]?.p50 ?? 0) - (direct.p50 ?? 0)).toFixed(3)} ms, p99 ${((seq[p.name]?.p99 ?? 0) - (direct.p99 ?? 0)).toFixed(3)} ms`;
      await guarded(p, "load", async () => {
        const load = await underLoad(p);
        line += `; ${load.rps.toFixed(0)} req/s`;
        if (load.cpuMsPerRequest !== undefined)
          line += `, CPU ${load.cpuMsPerRequest.toFixed(3)} ms/req (system ${load.systemMsPerRequest?.toFixed(3)})`;
      });
      process.stdout.write(`${line}${Object.keys(p.failed).length > 0 ? ` ${JSON.stringify(p.failed)}` : ""}\n`);
    }
  }
  for (const p of paths) await p.pool.close();
}

// The synthetic model is written here and removed afterwards, whatever happens.
const modelDir = mkdtempSync(join(tmpdir(), "tandem-bench-model-"));
try {
  if (process.env.BENCH_ONLY === "responses") await responsesOnly();
  else if (process.env.BENCH_ONLY === "stall") await stallOnly();
  else if (process.env.BENCH_ONLY === "overhead") await overheadOnly();
  else await main(modelDir);
} finally {
  for (const c of children) c.kill("SIGTERM");
  for (const dir of [modelDir, ...tempDirs]) rmSync(dir, { recursive: true, force: true });
}
