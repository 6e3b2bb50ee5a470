import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { measureStall, stallShapes } from "../bench/health-stall.js";
import { startFakeOpenAI } from "../test/support/fake-openai-upstream.js";

const fake = await startFakeOpenAI({ models: ["stall"] });
fake.script(() => ({ kind: "text", text: "ok", usage: { input: 1, output: 1 } }));
const dir = mkdtempSync(join(tmpdir(), "stall-"));
const port = 20000 + Math.floor(Math.random() * 10000);
writeFileSync(join(dir, "c.json"), JSON.stringify({ server: { port }, dataDir: dir, providers: { up: { kind: "openai", baseUrl: fake.url, local: false, apiKeys: ["env:UPK"] } }, routes: { stall: { tiers: ["up/stall"] } } }));
const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "serve", "--config", join(dir, "c.json")], { env: { ...process.env, UPK: "sk-x", TANDEM_DB_KEY: randomBytes(32).toString("hex") }, stdio: ["ignore", "ignore", "inherit"] });
const url = `http://127.0.0.1:${port}`;
for (let i = 0; i < 100; i++) { try { if ((await fetch(`${url}/health`)).ok) break; } catch {} await new Promise((r) => setTimeout(r, 200)); }
for (const shape of stallShapes(32 * 1024 * 1024, "stall")) {
  for (let rep = 0; rep < 2; rep++) {
    const r = await measureStall(url, shape);
    console.log(shape.key, "status", r.status, "req", Math.round(r.requestMs), "healthMax", Math.round(r.healthMaxMs), "p99", Math.round(r.healthP99Ms));
  }
}
child.kill(); await fake.close(); process.exit(0);
