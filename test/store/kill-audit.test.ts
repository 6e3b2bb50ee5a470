/**
 * `kill -9` under load: tandem runs as its own process (the real CLI) in front of a recording
 * cloud-like upstream; concurrent requests are in flight when it is killed at a random moment. Every
 * body the upstream received must then have its egress-audit row (audit before egress), and the
 * request log may miss only the requests of the last moments before the kill (write-behind, bounded).
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { openStore } from "../../src/store/index.js";
import { seeded } from "../support/seeded-random.js";
import { spawnServe } from "../support/tandem-serve.js";

const ROUNDS = 3;
const CONCURRENCY = 12;
/**
 * How long before the kill a finished request's log row must be on disk. tandem commits within about
 * 50 ms plus a commit; this is far looser, so a slow fsync on a busy machine cannot make it flake.
 */
const LOG_SLACK_MS = 1000;

interface Recording {
  server: Server;
  url: string;
  /** Requests whose head arrived: tandem had started sending a body. */
  started: number;
  /** SHA-256 of every complete body received, as received on the socket. */
  bodies: string[];
}

/** An OpenAI-like upstream on 127.0.0.1 that hashes the exact bytes of each request body it receives. */
async function startRecordingUpstream(): Promise<Recording> {
  const recording: Recording = { server: undefined as unknown as Server, url: "", started: 0, bodies: [] };
  const server = createServer((req, res) => {
    if (req.method === "GET") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ object: "list", data: [{ id: "m", object: "model", created: 0, owned_by: "x" }] }));
      return;
    }
    recording.started++;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("error", () => {});
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      recording.bodies.push(createHash("sha256").update(raw).digest("hex"));
      const chunk = (delta: object, finish: string | null) =>
        `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(chunk({ role: "assistant", content: "ok" }, null));
      // A few ms in flight, so the kill finds requests at every stage.
      setTimeout(() => res.end(`${chunk({}, "stop")}data: [DONE]\n\n`), 1 + Math.floor(Math.random() * 15));
    });
  });
  server.on("clientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  recording.server = server;
  recording.url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  return recording;
}

async function oneRound(round: number, random: () => number): Promise<string> {
  const upstream = await startRecordingUpstream();
  const home = mkdtempSync(join(tmpdir(), "tandem-kill-"));
  const dataDir = join(home, "data");
  const key = randomBytes(32);
  const config = join(home, "tandem.config.yaml");
  writeFileSync(
    config,
    [
      `dataDir: "${dataDir}"`,
      "health: { probeIntervalMs: 0 }",
      "store: { logContent: true }",
      "providers:",
      `  cloud: { kind: openai, baseUrl: "${upstream.url}/v1", local: false, models: [m] }`,
      "",
    ].join("\n"),
  );
  const { child, url } = await spawnServe(home, config, key.toString("hex"), { logLevel: "silent" });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));

  // One request first: the first one loads what tandem loads lazily (the token counter, compiled code).
  const warm = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "cloud/m", messages: [{ role: "user", content: "warm up" }] }),
  });
  assert.equal(warm.status, 200, await warm.text());
  // Concurrent clients until the kill; each remembers when its answer was complete.
  const finished: { marker: string; at: number }[] = [];
  let killed = false;
  let next = 0;
  const client = async () => {
    while (!killed) {
      const marker = `kill-${round}-${next++}`;
      try {
        const res = await fetch(`${url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "cloud/m", messages: [{ role: "user", content: marker }] }),
        });
        await res.text();
        if (res.status === 200) finished.push({ marker, at: performance.now() });
      } catch {
        // The server died mid-request.
      }
    }
  };
  const clients = Array.from({ length: CONCURRENCY }, client);
  // The kill comes after a random amount of traffic (not time: a busy machine may be slow), at a random ms.
  const traffic = CONCURRENCY + Math.floor(random() * 3 * CONCURRENCY);
  const deadline = Date.now() + 15_000;
  while (upstream.bodies.length < traffic && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, Math.floor(random() * 20)));
  const killedAt = performance.now();
  child.kill("SIGKILL");
  killed = true;
  assert.equal(await exited, "SIGKILL");
  await Promise.all(clients);
  // Bodies already on their way finish arriving (or their connections close).
  await new Promise((r) => setTimeout(r, 100));
  await new Promise<void>((resolve) => {
    upstream.server.closeAllConnections();
    upstream.server.close(() => resolve());
  });

  const store = openStore({ dataDir, key, pruneIntervalMs: 0, report: () => {} });
  let audit: { sha256: string }[];
  let logged: Set<string>;
  try {
    audit = store.queryAudit({ limit: 1_000_000 });
    logged = new Set(
      store
        .queryRequests({ limit: 1_000_000 })
        .map((r) => /kill-\d+-\d+/.exec(r.requestContent ?? "")?.[0])
        .filter((m): m is string => m !== undefined),
    );
  } finally {
    store.close();
  }
  assert.ok(upstream.bodies.length >= traffic, `enough traffic before the kill (${upstream.bodies.length} bodies)`);
  // Strict: every body the upstream received has its row (each digest at least as often as received).
  const rows = new Map<string, number>();
  for (const r of audit) rows.set(r.sha256, (rows.get(r.sha256) ?? 0) + 1);
  const unaudited = upstream.bodies.filter((digest) => {
    const left = rows.get(digest) ?? 0;
    rows.set(digest, left - 1);
    return left <= 0;
  });
  assert.deepEqual(unaudited, [], `round ${round}: bodies the upstream received without an audit row`);
  assert.ok(audit.length >= upstream.started, `round ${round}: ${audit.length} rows for ${upstream.started} bodies begun`);
  // Loose: the request log may miss only requests that finished just before the kill.
  const lost = finished.filter((f) => f.at < killedAt - LOG_SLACK_MS && !logged.has(f.marker)).map((f) => f.marker);
  assert.deepEqual(lost, [], `round ${round}: request-log rows lost for requests finished well before the kill`);
  const missing = finished.filter((f) => !logged.has(f.marker));
  const oldest = Math.max(0, ...missing.map((f) => killedAt - f.at));
  return `${upstream.bodies.length} bodies received, ${audit.length} audit rows; ${missing.length} of ${finished.length} finished requests not in the log, the oldest finished ${oldest.toFixed(0)} ms before the kill`;
}

describe("kill -9 under load", () => {
  it("leaves an audit row for every body a cloud upstream received, and loses only the last moments of the request log", async (t) => {
    // The kill moments come from a seed, named in the test's output, so a failing run can be replayed.
    const seed = Number(process.env.TANDEM_KILL_SEED ?? Date.now() % 1_000_000);
    const random = seeded(seed);
    for (let round = 1; round <= ROUNDS; round++) {
      await t.test(`round ${round} (TANDEM_KILL_SEED=${seed})`, async (r) => r.diagnostic(await oneRound(round, random)));
    }
  });
});
