/**
 * Time to first token (and tokens/s) on the local engine, layer by layer, on its own (not part of
 * `npm run bench`): node-llama-cpp directly; tandem's engine code in the same process; tandem's
 * provider with the engine in its child process (IPC); a full tandem server (HTTP, router, OpenAI
 * dialect, SSE). Every path gets the same prompt in each round (new to each engine, so each
 * evaluates it whole), the same model, context (1024, one sequence) and threads, greedy sampling,
 * and the paths take turns in a rotating order so load elsewhere on the machine hits them alike.
 *
 *   npx tsx bench/local-ttft.ts    knobs: BENCH_TTFT_RUNS (9), BENCH_THREADS (0: the engine's default),
 *                                  BENCH_TTFT_MODELS (stories,synthetic)
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeThroughputModel } from "../test/support/gguf/index.js";
import { SHARED_MODELS_DIR } from "../test/support/local-models.js";
import { DirectEngine, type LocalRun, throughTandem } from "./local-engine.js";
import { benchPrompt } from "./local-prompt.js";

const RUNS = Number(process.env.BENCH_TTFT_RUNS ?? 9);
const THREADS = Number(process.env.BENCH_THREADS ?? 0);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TSX = import.meta.resolve("tsx");

const dir = mkdtempSync(join(tmpdir(), "tandem-ttft-"));
const models = [
  { name: "stories", path: join(SHARED_MODELS_DIR, "stories260K.gguf"), tokens: 100 },
  { name: "synthetic", path: join(dir, "synthetic.gguf"), tokens: 24 },
];
const only = process.env.BENCH_TTFT_MODELS?.split(",");
if (only) models.splice(0, models.length, ...models.filter((m) => only.includes(m.name)));
const synthetic = models.find((m) => m.name === "synthetic");
const info = synthetic ? await writeThroughputModel(synthetic.path) : undefined;
if (info) process.stderr.write(`synthetic model: ${(info.parameters / 1e6).toFixed(0)}M ${info.shape.tensorType}\n`);

const port = await new Promise<number>((resolve) => {
  const s = createServer().listen(0, "127.0.0.1", () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => resolve(p));
  });
});
const config = join(dir, "tandem.yaml");
writeFileSync(
  config,
  [
    "health: { probeIntervalMs: 0 }",
    "providers:",
    `  local: { kind: llamacpp, ${THREADS ? `threads: ${THREADS}, ` : ""}parallel: 1, gpu: false, models: { ${models
      .map((m) => `${m.name}: { path: "${m.path}", contextSize: 1024 }`)
      .join(", ")} } }`,
    "",
  ].join("\n"),
);
const server = spawn(
  process.execPath,
  ["--import", TSX, join(ROOT, "src/cli/main.ts"), "serve", "--config", config, "--port", String(port)],
  {
    env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, OLLAMA_HOST: "127.0.0.1:9", TANDEM_LOG_LEVEL: "warn" },
    stdio: ["ignore", "ignore", "inherit"],
  },
);
const url = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  if (
    await fetch(`${url}/v1/status`).then(
      (r) => r.ok,
      () => false,
    )
  )
    break;
  if (i > 600) throw new Error("tandem did not start");
  await new Promise((r) => setTimeout(r, 100));
}

const p50 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] as number;
};
type PathName = "direct" | "worker" | "provider" | "http";
const report: Record<string, Record<PathName, { ttft: number; tps: number }>> = {};
try {
  for (const m of models) {
    for (const kind of ["ttft", "tps"] as const) {
      const maxTokens = kind === "ttft" ? 8 : m.tokens;
      const engines = {} as Record<Exclude<PathName, "http">, DirectEngine>;
      for (const mode of ["direct", "worker", "provider"] as const) {
        engines[mode] = await DirectEngine.start(TSX, join(ROOT, "bench/local-direct.ts"), m.path, maxTokens, 300_000, {
          threads: THREADS,
          mode,
        });
      }
      await throughTandem(url, `local/${m.name}`, maxTokens, `Warm-up. ${benchPrompt(0)}`);
      const runs: Record<PathName, LocalRun[]> = { direct: [], worker: [], provider: [], http: [] };
      const order: PathName[] = ["direct", "worker", "provider", "http"];
      for (let i = 0; i < RUNS; i++) {
        const prompt = benchPrompt(1000 * (kind === "ttft" ? 1 : 2) + i);
        for (let k = 0; k < order.length; k++) {
          const path = order[(i + k) % order.length] as PathName;
          runs[path].push(
            path === "http" ? await throughTandem(url, `local/${m.name}`, maxTokens, prompt) : await engines[path].run(prompt),
          );
        }
      }
      for (const e of Object.values(engines)) e.close();
      report[m.name] ??= {} as Record<PathName, { ttft: number; tps: number }>;
      for (const path of order) {
        const entry = (report[m.name] as Record<PathName, { ttft: number; tps: number }>)[path] ?? { ttft: 0, tps: 0 };
        if (kind === "ttft") entry.ttft = p50(runs[path].map((r) => r.ttftMs));
        else entry.tps = p50(runs[path].map((r) => r.tokensPerSecond));
        (report[m.name] as Record<PathName, { ttft: number; tps: number }>)[path] = entry;
      }
      process.stderr.write(`${m.name} ${kind}: ${JSON.stringify(report[m.name])}\n`);
    }
  }
} finally {
  server.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}
const lines = [
  `threads: ${THREADS || "engine default"}, ${RUNS} runs per path (p50)`,
  "| model | path | TTFT ms | tokens/s |",
  "|---|---|---|---|",
];
for (const [name, paths] of Object.entries(report)) {
  for (const [path, v] of Object.entries(paths)) lines.push(`| ${name} | ${path} | ${v.ttft.toFixed(1)} | ${v.tps.toFixed(1)} |`);
}
process.stdout.write(`${lines.join("\n")}\n`);
