/**
 * The `/health` stall figures alone (the part of `npm run bench` that times how long one maximal body
 * holds up other clients), without the rest of the bench: `npm run build && npx tsx bench/stall-only.ts`.
 * Starts the bench's fake upstream and one tandem from dist/ (with its store and egress audit, on a
 * route that classifies for privacy as the full bench does), then sends each shape `STALL_REPS` times
 * (default 3) and prints one line per run. `STALL_SHAPES=image,oneText` picks shapes.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { measureStall, stallShapes } from "./health-stall.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const REPS = Number(process.env.STALL_REPS ?? 3);
const SHAPES = process.env.STALL_SHAPES?.split(",");
const children: ChildProcess[] = [];

/** Starts a server and resolves with its port, from `{"port":N}` on stdout or tandem's banner on stderr. */
function start(args: string[], env: NodeJS.ProcessEnv, logTo?: string): Promise<number> {
  const stdout = logTo ? openSync(logTo, "w") : "pipe";
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ["ignore", stdout, "pipe"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stderr?.on("data", (d) => {
      err += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    child.stdout?.on("data", (d) => {
      out += d;
      const m = /^\{"port":(\d+)\}/m.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on("exit", (code) => reject(new Error(`${args.join(" ")} exited ${code}: ${err.slice(-2000)}`)));
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tandem-stall-"));
  try {
    const upstream = await start(["--import", "tsx", join(ROOT, "bench/upstream.ts")], {});
    const config = join(dir, "tandem.config.yaml");
    writeFileSync(
      config,
      [
        `dataDir: "${join(dir, "data")}"`,
        "store: { enabled: true }",
        "providers:",
        `  up: { kind: openai, baseUrl: "http://127.0.0.1:${upstream}/v1", local: false, apiKeys: ["env:BENCH_UPSTREAM_KEY"], models: [bench] }`,
        "routes:",
        "  stall: { tiers: [up/bench], privacy: allow }",
        "",
      ].join("\n"),
    );
    const port = await start(
      [join(ROOT, "dist/cli/main.js"), "serve", "--config", config, "--port", "0"],
      {
        HOME: dir,
        XDG_DATA_HOME: dir,
        OLLAMA_HOST: "127.0.0.1:9",
        BENCH_UPSTREAM_KEY: "sk-bench",
        TANDEM_DB_KEY: randomBytes(32).toString("hex"),
      },
      join(dir, "tandem.log"),
    );
    for (const shape of stallShapes(32 * 1024 * 1024, "stall")) {
      if (SHAPES && !SHAPES.includes(shape.key)) continue;
      for (let rep = 0; rep < REPS; rep++) {
        const r = await measureStall(`http://127.0.0.1:${port}`, shape);
        console.log(
          `${shape.label}: /health max ${r.healthMaxMs.toFixed(0)} ms, p99 ${r.healthP99Ms.toFixed(0)} ms (${r.healthPings} pings); the request took ${r.requestMs.toFixed(0)} ms, status ${r.status}`,
        );
      }
    }
  } finally {
    await Promise.all(
      children.map(
        (child) =>
          new Promise((resolve) => {
            if (child.exitCode !== null) return resolve(undefined);
            child.once("exit", resolve);
            child.kill("SIGTERM");
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
