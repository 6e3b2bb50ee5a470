/**
 * An agent-sized request: a coding agent sends its whole conversation with every turn (here about
 * 216 KB of messages, code and tool output), so what a gateway does per byte of body shows. Sequential
 * non-streamed chat completions, direct, through the bare proxy and through tandem (its store on, the
 * upstream remote, so privacy classifies every request), interleaved; added p50 over direct, in ms.
 *
 *   warm  each request is the same history plus a new last message, as an agent's next turn is
 *         (tandem has scanned the history before: its detection memo answers for it)
 *   cold  every message is new (the first turn of a conversation: everything is scanned)
 *
 *   npm run build && npx tsx bench/agent-history.ts      (AGENT_N: requests per path, default 200;
 *                                                         AGENT_KB: history size, default 200)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Pool } from "undici";
import { benchTandemConfig, children, percentile, start, startBenchTandem, timedChat } from "./servers.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const N = Number(process.env.AGENT_N ?? 200);
const KB = Number(process.env.AGENT_KB ?? 200);
const dir = mkdtempSync(join(tmpdir(), "tandem-agent-history-"));

const CODE = [
  "function add(a, b) {",
  "  // adds two numbers and returns the sum",
  "  return a + b;",
  "}",
  "const result = add(40, 2); console.log('the answer is', result);",
  "",
].join("\n");

/** A conversation of about KB kilobytes; `salt` makes every message new. */
function history(salt: string): object[] {
  const messages: object[] = [{ role: "system", content: `${salt}You are a coding agent. ${"Follow the rules. ".repeat(200)}` }];
  for (let i = 0, size = 0; size < KB * 1024; i++) {
    const content = `${salt}Turn ${i}: here is the file src/mod${i}.ts:\n${CODE.repeat(8)}`;
    messages.push({ role: i % 2 ? "assistant" : "user", content });
    size += content.length;
  }
  return messages;
}

async function main(): Promise<void> {
  const up = await start(["--import", "tsx", join(ROOT, "bench/upstream.ts")], { BENCH_CHUNKS: "20" });
  const upstream = `http://127.0.0.1:${up.port}`;
  const bare = await start(["--import", "tsx", join(ROOT, "bench/bare-proxy.ts")], { BENCH_UPSTREAM: upstream });
  const tandem = await startBenchTandem(dir, benchTandemConfig(upstream, join(dir, "data")));
  const paths = [
    { name: "direct", port: up.port, model: "bench" },
    { name: "bare proxy", port: bare.port, model: "bench" },
    { name: "tandem", port: tandem.port, model: "up/bench" },
  ].map((p) => ({ ...p, pool: new Pool(`http://127.0.0.1:${p.port}`, { connections: 1 }) }));
  const shared = history("");
  const lines = [
    `Sequential non-streamed chat completions with a ${(JSON.stringify(shared).length / 1024).toFixed(0)} KB history, ${N} per path interleaved (medians over the last ${N / 2}), added p50 over direct in ms:`,
    "",
    "| | bare proxy | tandem | tandem − bare |",
    "|---|---|---|---|",
  ];
  for (const mode of ["warm", "cold"] as const) {
    const ms: Record<string, number[]> = {};
    for (let i = 0; i < N; i++) {
      const turn = { role: "user", content: `Turn ${i}: say something short.` };
      const messages = mode === "warm" ? [...shared, turn] : [...history(`${mode}-${i} `), turn];
      for (const p of i % 2 ? paths : [...paths].reverse()) {
        const body = JSON.stringify({ model: p.model, messages, stream: false, max_tokens: 64 });
        const took = await timedChat(p.pool, p.name, body);
        if (i < N / 2) continue;
        ms[p.name] ??= [];
        ms[p.name]?.push(took);
      }
    }
    const median = (values: number[] = []) => percentile(values, 50);
    const added = (name: string) => median(ms[name]) - median(ms.direct);
    const f = (v: number) => v.toFixed(3);
    lines.push(`| ${mode} | ${f(added("bare proxy"))} | ${f(added("tandem"))} | ${f(added("tandem") - added("bare proxy"))} |`);
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
