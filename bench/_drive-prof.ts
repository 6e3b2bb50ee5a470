import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Pool } from "undici";
import { benchTandemConfig, children, start, startBenchTandem, timedChat } from "./servers.js";
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const dir = mkdtempSync(join(tmpdir(), "prof-"));
const up = await start(["--import", "tsx", join(ROOT, "bench/upstream.ts")], {});
const upstream = `http://127.0.0.1:${up.port}`;
const nodeArgs = (process.env.PROF_ARGS ?? "").split(" ").filter(Boolean);
const whole = process.env.PROF_WHOLE === "1";
const routes = whole ? ["routes:", "  whole: { tiers: [up/bench], streamUpstream: false }"] : [];
const t = await startBenchTandem(dir, benchTandemConfig(upstream, join(dir, "data"), { extra: routes }), { nodeArgs });
const pool = new Pool(`http://127.0.0.1:${t.port}`, { connections: 32 });
const body = JSON.stringify({ model: whole ? "whole" : "up/bench", messages: [{ role: "user", content: "Say something short." }], stream: false, max_tokens: 64 });
const load = async (ms: number) => { const until = performance.now() + ms; let n = 0; await Promise.all(Array.from({ length: 32 }, async () => { while (performance.now() < until) { await timedChat(pool, "t", body); n++; } })); return n; };
await load(8000);
if (process.env.PROF_SIGNAL) { t.child.kill("SIGUSR2"); await new Promise((r) => setTimeout(r, 300)); }
const n = await load(8000);
console.log("requests in measured window", n);
if (process.env.PROF_SIGNAL) { t.child.kill("SIGUSR2"); await new Promise((r) => setTimeout(r, 2000)); }
await pool.close();
for (const c of children) c.kill("SIGTERM");
await new Promise((r) => setTimeout(r, 1500));
