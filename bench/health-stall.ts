/**
 * How long one maximal request body holds up everyone else: while tandem receives and handles a
 * body of (almost) `server.bodyLimit` bytes, `/health` is asked every ~10 ms on its own connection,
 * and the worst and p99 answer times are the stall the other clients of the server would see.
 * Used by `npm run bench` (bench/run.ts); runs against any tandem URL.
 */
import { Agent, request } from "node:http";

export interface StallShape {
  /** Key in the results. */
  key: string;
  label: string;
  path: string;
  /** The JSON body, as sent. */
  body: string;
}

export interface StallResult {
  key: string;
  label: string;
  bodyMiB: number;
  /** The big request's status and how long it took to be answered (ms). */
  status: number;
  requestMs: number;
  /** /health answer times while the big request was in flight (ms). */
  healthMaxMs: number;
  healthP99Ms: number;
  healthPings: number;
}

/** A sentence pool that reads like a pasted document: prose, code and log lines, with digits. */
const LINES = [
  "The quarterly report shows that revenue grew by 12 percent while costs stayed flat across regions.",
  "function total(items) { return items.reduce((sum, item) => sum + item.price * item.quantity, 0); }",
  "2025-03-14T09:26:53.589Z INFO worker-7 processed batch 4312 in 83 ms (queue depth 17)",
  "Please review the attached design before Thursday; the open questions are listed at the end.",
  "SELECT id, name, created_at FROM orders WHERE status = 'open' ORDER BY created_at DESC LIMIT 50;",
  "We measured the latency at p50 and p99 over 3 runs of 500 requests each on a quiet machine.",
];

function documentText(bytes: number, seed: number): string {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = `${LINES[(i + seed) % LINES.length]} [${i}]\n`;
    parts.push(line);
    size += line.length;
  }
  return parts.join("").slice(0, bytes);
}

/** Three shapes of a body just under `limit` bytes: one huge text, many messages, one big base64 image. */
export function stallShapes(limit: number, model: string): StallShape[] {
  const room = limit - 4096;
  // JSON escapes each newline as two characters: size the texts by their encoded length.
  const fit = (make: (bytes: number) => string) => {
    const first = make(room);
    return make(Math.floor((room * room) / Buffer.byteLength(first)));
  };
  const oneText = fit((bytes) => JSON.stringify({ model, messages: [{ role: "user", content: documentText(bytes, 0) }] }));
  const messageBytes = 2048;
  let count = 0;
  const many = fit((bytes) => {
    count = Math.floor(bytes / (messageBytes + 40));
    const messages = Array.from({ length: count }, (_, i) => ({
      role: i % 2 === 0 ? "user" : "assistant",
      content: documentText(messageBytes, i),
    }));
    return JSON.stringify({ model, messages });
  });
  // Base64 of pseudo-random bytes: what a photo's data URL looks like to a parser.
  const raw = Buffer.alloc(Math.floor((room * 3) / 4));
  let x = 2463534242;
  for (let i = 0; i < raw.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    raw[i] = x & 0xff;
  }
  const image = JSON.stringify({
    model,
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: "What is in this picture?" },
          { type: "image_url", image_url: { url: `data:image/jpeg;base64,${raw.toString("base64")}` } },
        ],
      },
    ],
  });
  return [
    { key: "oneText", label: "one huge text message", path: "/v1/chat/completions", body: oneText },
    { key: "manyMessages", label: `${count} messages of 2 KB`, path: "/v1/chat/completions", body: many },
    { key: "image", label: "one base64 image", path: "/v1/chat/completions", body: image },
  ];
}

function post(url: string, path: string, body: Buffer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      { method: "POST", headers: { "content-type": "application/json", ...headers } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    // A server that refuses the body (413) may close before it is all written; its answer still counts.
    req.on("error", (err) => setTimeout(() => reject(err), 1000));
    req.end(body);
  });
}

function health(url: string, agent: Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/health`, { agent }, (res) => {
      res.resume();
      res.on("end", () => resolve());
    });
    req.on("error", reject);
    req.end();
  });
}

/** Sends `shape` once while pinging /health about every `everyMs`, and reports the pings' latency. */
export async function measureStall(
  url: string,
  shape: StallShape,
  options: { headers?: Record<string, string>; everyMs?: number } = {},
): Promise<StallResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  // Encoded before the clock starts: encoding 32 MB here would stall this process's own pings.
  const body = Buffer.from(shape.body);
  await health(url, agent);
  const everyMs = options.everyMs ?? 10;
  const times: number[] = [];
  let done = false;
  const pinger = (async () => {
    while (!done) {
      const t0 = performance.now();
      await health(url, agent);
      const ms = performance.now() - t0;
      times.push(ms);
      if (ms < everyMs) await new Promise((r) => setTimeout(r, everyMs - ms));
    }
  })();
  const t0 = performance.now();
  const status = await post(url, shape.path, body, options.headers ?? {});
  const requestMs = performance.now() - t0;
  done = true;
  await pinger;
  agent.destroy();
  const sorted = [...times].sort((a, b) => a - b);
  const p99 = sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? 0;
  return {
    key: shape.key,
    label: shape.label,
    bodyMiB: body.length / 2 ** 20,
    status,
    requestMs,
    healthMaxMs: sorted.at(-1) ?? 0,
    healthP99Ms: p99,
    healthPings: sorted.length,
  };
}
