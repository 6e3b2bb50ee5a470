/**
 * The floor as a server: only the steps tandem must take for a bench request (bench/floor.ts times
 * them alone), run by tandem's own code on a bare node:http server, as a gateway built for this one
 * request and nothing else would run them. Parse and validate the body, classify it for privacy, build
 * the upstream body (the client's, model and stream options set), append its audit row to an encrypted
 * journal, send it over a keep-alive pool with the key, stream the answer (tapped into events and
 * frames, as tandem taps it), answer the client (its frames as they come, or the completion assembled
 * from them), and write one log line.
 *
 * Left out, as the bench request never needs them: routing and tiers, retries, breakers, deadlines and
 * timers, quality checks, failover, redaction, metrics, the request log and usage rows, Host/Origin and
 * key checks, body limits, errors in the client's dialect. What tandem adds over this server is the
 * cost of that machinery in the common case; what this server adds over the bare proxy is the cost of
 * the work itself. Not a gateway: a measuring stick (`npm run bench`, `BENCH_ONLY=overhead`,
 * bench/ladder.ts). `BENCH_FLOOR_WHOLE=1` asks the upstream for a whole answer when the client does not
 * stream (as a `streamUpstream: false` route does); `BENCH_FLOOR_LOG` names a file for the log lines.
 */
import { randomBytes } from "node:crypto";
import pino from "pino";
import { Pool } from "undici";
import type { StreamEvent } from "../src/core/index.js";
import {
  nativeOpenAIChatCompletion,
  nativeOpenAIChatRequest,
  OpenAIChatNativeStream,
} from "../src/dialects/openai/native-openai-chat.js";
import { parseChatCompletionRequest } from "../src/dialects/openai/parse-chat-completion-request.js";
import { classifyRequest } from "../src/privacy/classify-request.js";
import { readSseBatches } from "../src/providers/http/sse.js";
import { nativeOpenAIChatBody, tapOpenAIChatCompletion, tapOpenAIChatStream } from "../src/providers/openai/tap-openai-chat.js";
import { AuditJournal } from "../src/store/audit-journal.js";
import { egressValues } from "../src/store/log-tables.js";
import { serveMeasuringStick } from "./measuring-stick.js";

type Frame = Extract<StreamEvent, { type: "frame" }>;

const upstream = process.env.BENCH_UPSTREAM as string;
const TARGET = "up/bench";
/** `BENCH_FLOOR_WHOLE=1`: a request the client does not stream asks the upstream for a whole answer. */
const WHOLE = process.env.BENCH_FLOOR_WHOLE === "1";
const pool = new Pool(upstream, { connections: 64, keepAliveTimeout: 60_000 });
const journal = new AuditJournal(process.env.BENCH_FLOOR_DIR as string, randomBytes(32));
// As tandem's: JSON lines to stdout, written asynchronously.
const log = pino(pino.destination({ dest: process.env.BENCH_FLOOR_LOG ?? 1, sync: false }));

async function answer(raw: string, req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) {
  const started = performance.now();
  const parsed = JSON.parse(raw) as Record<string, unknown>;
  const { chat } = parseChatCompletionRequest(parsed);
  const sensitivity = classifyRequest(chat).level;
  const native = nativeOpenAIChatRequest(parsed, req.headers);
  // The provider's model id, as tandem's catalog maps `up/<id>` (the paced scenario asks for `up/bench-paced`).
  const upstreamModel = chat.model.slice(chat.model.indexOf("/") + 1);
  const whole = WHOLE && !chat.stream;
  const edited = nativeOpenAIChatBody(native, upstreamModel, whole);
  const body = typeof edited === "string" ? edited : JSON.stringify(edited);
  journal.append(egressValues({ target: TARGET, sensitivity, body }) as never);
  const upstreamAnswer = await pool.request({
    method: "POST",
    path: "/v1/chat/completions",
    headers: { "content-type": "application/json", authorization: "Bearer sk-bench" },
    body,
  });
  if (whole) {
    const json = (await upstreamAnswer.body.json()) as unknown;
    const events = tapOpenAIChatCompletion(json, TARGET);
    const frames = events.filter((e): e is Frame => e.type === "frame");
    res.writeHead(200, { "content-type": "application/json", "x-tandem-target": TARGET });
    res.end(JSON.stringify(nativeOpenAIChatCompletion(frames, { target: TARGET })));
    log.info({ status: 200, model: chat.model, target: TARGET, ms: performance.now() - started }, "request");
    return;
  }
  const events = tapOpenAIChatStream(readSseBatches(upstreamAnswer.body), TARGET);
  if (chat.stream) {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", "x-tandem-target": TARGET });
    const frames = new OpenAIChatNativeStream({ target: TARGET }, false);
    for await (const event of events) if (event.type === "frame") res.write(frames.frame(event));
    res.end();
  } else {
    const frames: Frame[] = [];
    for await (const event of events) if (event.type === "frame") frames.push(event);
    res.writeHead(200, { "content-type": "application/json", "x-tandem-target": TARGET });
    res.end(JSON.stringify(nativeOpenAIChatCompletion(frames, { target: TARGET })));
  }
  log.info({ status: 200, model: chat.model, target: TARGET, ms: performance.now() - started }, "request");
}

serveMeasuringStick(answer, () => journal.close());
