/**
 * The bench's server processes: started from a script, each resolved with its port, and listed in
 * `children` so the run can stop them all on its way out; the bench's tandem config; and the one
 * timed request the standalone scripts (phases.ts, agent-history.ts) send.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { openSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Pool } from "undici";

/** Every process `start` launched, to kill when the run ends. */
export const children: ChildProcess[] = [];

/**
 * Starts a server process and resolves with its port: from a `{"port":N}` line on stdout, from
 * tandem's banner on stderr, or (for a server told its port) once it accepts connections. With
 * `logTo`, stdout goes to that file, as a deployed server's logs would, rather than a pipe.
 */
export function start(args: string[], env: NodeJS.ProcessEnv, options: { logTo?: string; port?: number } = {}) {
  const stdout = options.logTo ? openSync(options.logTo, "w") : "pipe";
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ["ignore", stdout, "pipe"] });
  children.push(child);
  return new Promise<{ child: ChildProcess; port: number }>((resolve, reject) => {
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
    child.on("exit", (code) => reject(new Error(`${args.join(" ")} exited ${code}: ${err.slice(-2000)}`)));
    if (options.port !== undefined) {
      const port = options.port;
      const until = Date.now() + 20_000;
      const poll = async () => {
        while (Date.now() < until) {
          try {
            const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(500) });
            await res.body?.cancel();
            return resolve({ child, port });
          } catch {
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        reject(new Error(`${args.join(" ")} did not answer on port ${port}`));
      };
      void poll();
    }
  });
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * The config of a bench tandem over the fake upstream at `upstreamUrl`, with its data in `dataDir`:
 * the upstream as provider `up`, remote (`local: false`: on 127.0.0.1 tandem would take it for a
 * local target and skip privacy classification, which a real cloud upstream pays for) and with a key
 * (the fake ignores it; tandem's key rotation then picks one for every request), the store on unless
 * told; `extra` lines after the provider (more providers, then `routes:`).
 */
export function benchTandemConfig(
  upstreamUrl: string,
  dataDir: string,
  options: { store?: boolean; models?: string[]; extra?: string[] } = {},
): string {
  return [
    `dataDir: "${dataDir}"`,
    `store: { enabled: ${options.store ?? true} }`,
    "providers:",
    `  up: { kind: openai, baseUrl: "${upstreamUrl}/v1", local: false, apiKeys: ["env:BENCH_UPSTREAM_KEY"], models: [${(options.models ?? ["bench"]).join(", ")}] }`,
    ...(options.extra ?? []),
    "",
  ].join("\n");
}

/**
 * A tandem from `dist` (default: this checkout's) serving `config`, written to `dir` with its data and
 * log there: no Ollama to find, the bench upstream's key, a store key of its own.
 */
export function startBenchTandem(
  dir: string,
  config: string,
  options: { nodeArgs?: string[]; dist?: string; env?: NodeJS.ProcessEnv } = {},
) {
  const file = join(dir, "tandem.config.yaml");
  writeFileSync(file, config);
  return start(
    [
      ...(options.nodeArgs ?? []),
      join(options.dist ?? join(ROOT, "dist"), "cli/main.js"),
      "serve",
      "--config",
      file,
      "--port",
      "0",
    ],
    {
      HOME: dir,
      XDG_DATA_HOME: dir,
      OLLAMA_HOST: "127.0.0.1:9",
      BENCH_UPSTREAM_KEY: "sk-bench",
      TANDEM_DB_KEY: randomBytes(32).toString("hex"),
      ...options.env,
    },
    { logTo: join(dir, "tandem.log") },
  );
}

/** One non-streamed chat completion to a path's pool, read whole: how long it took, in ms (throws unless 200). */
export async function timedChat(pool: Pool, name: string, body: string): Promise<number> {
  const t0 = performance.now();
  const res = await pool.request({
    method: "POST",
    path: "/v1/chat/completions",
    headers: { "content-type": "application/json" },
    body,
  });
  await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${name} answered ${res.statusCode}`);
  return performance.now() - t0;
}

/** The p-th percentile of `values` (the value at rank floor(p% of n)); NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
