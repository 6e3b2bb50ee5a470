/**
 * Privacy figures for `npm run bench`: how well the built-in detectors do on the labelled set
 * (precision, recall, F1 per kind), and what classifying a typical chat request costs in-process.
 * The cost runs the built code in dist/ (what the server runs), typed by its source; the quality is
 * measured on the source, since the labelled set (src/privacy/eval) is test data and not built into dist.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { ChatRequest } from "../src/core/index.js";
import { evaluateDetection } from "../src/privacy/eval/evaluate-detection.js";
import { LABELLED_EXAMPLES } from "../src/privacy/eval/labelled-examples.js";
import type * as PrivacyModule from "../src/privacy/index.js";

export interface KindQuality {
  kind: string;
  /** Labelled values of this kind in the set. */
  expected: number;
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface DetectionQuality {
  examples: number;
  /** Examples with nothing to find (hard negatives mostly). */
  negatives: number;
  perKind: KindQuality[];
  overall: Omit<KindQuality, "kind">;
}

export interface PrivacyBench {
  quality: () => DetectionQuality;
  /** Median µs per classifyRequest call over `iterations` calls, after a warm-up. */
  classifyMicros: (request: ChatRequest, iterations: number) => number;
  /** What classifyRequest finds in a request (level and counts per kind), for the report. */
  findings: (request: ChatRequest) => { level: string; counts: Record<string, number> };
}

const f1 = (precision: number, recall: number) =>
  precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);

/** Loads the built privacy code from `distDir` (the labelled set and its scoring come from the source). */
export async function loadPrivacyBench(distDir: string): Promise<PrivacyBench> {
  const url = (path: string) => pathToFileURL(join(distDir, path)).href;
  const privacy = (await import(url("privacy/index.js"))) as typeof PrivacyModule;
  return {
    quality() {
      const result = evaluateDetection(LABELLED_EXAMPLES);
      const expected = (kind: string) =>
        LABELLED_EXAMPLES.reduce((n, e) => n + e.expected.filter((x) => x.kind === kind).length, 0);
      return {
        examples: LABELLED_EXAMPLES.length,
        negatives: LABELLED_EXAMPLES.filter((e) => e.expected.length === 0).length,
        perKind: result.perKind.map((k) => ({ ...k, expected: expected(k.kind), f1: f1(k.precision, k.recall) })),
        overall: {
          ...result.overall,
          expected: LABELLED_EXAMPLES.reduce((n, e) => n + e.expected.length, 0),
          f1: f1(result.overall.precision, result.overall.recall),
        },
      };
    },
    classifyMicros(request, iterations) {
      // The default detector, compiled once and cached by classifyRequest, as the gateway uses it.
      for (let i = 0; i < Math.min(200, iterations); i++) privacy.classifyRequest(request);
      const times: number[] = [];
      for (let i = 0; i < iterations; i++) {
        const t0 = performance.now();
        privacy.classifyRequest(request);
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      return (times[Math.floor(times.length / 2)] as number) * 1000;
    },
    findings(request) {
      const c = privacy.classifyRequest(request);
      return { level: c.level, counts: c.counts };
    },
  };
}

/** Bytes of text in a request (every text a detector reads), in UTF-8. */
export function requestBytes(request: ChatRequest): number {
  let n = 0;
  for (const m of request.messages) {
    if (m.role === "system") n += Buffer.byteLength(m.content);
    else for (const p of m.content) if (p.type === "text") n += Buffer.byteLength(p.text);
    if (m.role === "assistant") for (const c of m.toolCalls ?? []) n += Buffer.byteLength(c.arguments);
  }
  return n;
}

const PROSE = [
  "Our nightly export job started failing after yesterday's deploy, and only for the EU shard.",
  "The worker retries five times with a two second backoff, then marks the batch as failed and pages on-call.",
  "Nothing changed in the schema as far as I can tell; the migration that ran last week only added an index.",
  "Can you check whether the connection pool is exhausted before the query even starts, and suggest a fix?",
  "I would rather not raise the pool size blindly, since the database is shared with the billing service.",
  "The same code path works in staging, where the batches are about a tenth of the size.",
];

/** Deterministic lines of one kind, numbered so no two are alike, until `bytes` is reached. */
function fill(bytes: number, line: (i: number) => string): string {
  let out = "";
  for (let i = 0; out.length < bytes; i++) out += `${line(i)}\n`;
  return out;
}

/** Line `i` of a run of small, numbered TypeScript functions. */
const code = (i: number) => {
  const f = Math.floor(i / 5);
  return [
    `export async function exportBatch${f}(db: Pool, since: Date, limit = ${100 + f}): Promise<number> {`,
    `  const rows = await db.query("SELECT id, amount, currency FROM payments_${f % 7} WHERE created_at > $1 LIMIT $2", [since, limit]);`,
    "  for (const row of rows.rows) totals.set(row.currency, (totals.get(row.currency) ?? 0) + Number(row.amount));",
    "  return rows.rowCount ?? 0;",
    "}",
  ][i % 5] as string;
};

const record = (i: number) =>
  JSON.stringify({
    id: `pay_${(1000 + i).toString(36)}`,
    amount: ((i * 37) % 10000) / 100,
    currency: ["EUR", "USD", "GBP"][i % 3],
    status: i % 11 === 0 ? "failed" : "settled",
    created_at: `2025-03-${String(1 + (i % 28)).padStart(2, "0")}T0${i % 10}:1${i % 6}:00Z`,
  });

const log = (i: number) =>
  `2025-03-14T02:${String(11 + (i % 40)).padStart(2, "0")}:0${i % 10}Z ${i % 5 === 0 ? "WARN " : "INFO "} export-worker[${4100 + (i % 9)}] batch ${i} rows=${(i * 53) % 900} took ${(i * 17) % 400} ms`;

/**
 * A chat request of about `bytes` bytes of text, as a coding assistant gets one: a system prompt,
 * a question with prose and code, an assistant's tool call, a JSON tool result, and a follow-up
 * with log lines. It holds a little personal data whatever its size: an email address, a phone
 * number and a private IP address (all fake).
 */
export function typicalChatRequest(bytes: number): ChatRequest {
  // The largest body budget whose request is still no bigger than `bytes` (the fixed parts count too).
  let low = 0;
  let high = 2 * bytes;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (requestBytes(chatRequestOfBudget(mid)) <= bytes) low = mid;
    else high = mid - 1;
  }
  return chatRequestOfBudget(low);
}

function chatRequestOfBudget(bytes: number): ChatRequest {
  const share = (fraction: number) => Math.max(0, Math.round(bytes * fraction));
  const prose = (n: number) => PROSE.slice(0, Math.max(1, Math.min(PROSE.length, n))).join(" ");
  const records = fill(share(0.2), record)
    .split("\n")
    .filter((r) => r !== "")
    .map((r) => JSON.parse(r) as unknown);
  const toolResult = JSON.stringify({ contact: { owner: "Payments on-call", phone: "+1 415-555-2671" }, payments: records });
  return {
    model: "up/bench",
    stream: true,
    messages: [
      {
        role: "system",
        content: "You are a coding assistant for the payments team. Answer concisely; put code in fenced blocks.",
      },
      {
        role: "user",
        content: [
          {
            type: "text",
            text: `${prose(Math.ceil(bytes / 2500))} The on-call engineer (maria.garcia@example.com) shared the export code:\n\`\`\`ts\n${fill(share(0.35), code)}\`\`\``,
          },
        ],
      },
      {
        role: "assistant",
        content: [{ type: "text", text: "Let me look at the most recent payments in the failing shard first." }],
        toolCalls: [
          { id: "call_1", name: "query_payments", arguments: JSON.stringify({ shard: "eu-1", since: "2025-03-13", limit: 50 }) },
        ],
      },
      { role: "tool", toolCallId: "call_1", content: [{ type: "text", text: toolResult }] },
      {
        role: "user",
        content: [
          {
            type: "text",
            text: `Here is the worker log from last night:\n\`\`\`\n2025-03-14T02:11:07Z ERROR export-worker[4121] upstream 10.20.3.17:5432 refused connection (attempt 3/5)\n${fill(share(0.25), log)}\`\`\`\nWhy would it refuse connections only at night?`,
          },
        ],
      },
    ],
  };
}
