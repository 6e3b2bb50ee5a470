/**
 * The bare proxy plus only the two steps issue 22's targets require of every request: the request
 * classified for privacy (tandem's own parser and classifier) and its egress audit row appended to an
 * encrypted journal (tandem's AuditJournal, one write(2)) before the body leaves. The answer is relayed
 * as its bytes come, as the bare proxy relays it: nothing parses it.
 *
 * With `BENCH_MINIMAL_STREAM=1` the upstream is asked for a stream (as tandem asks by default, so its
 * time limits can watch the tokens) and its SSE bytes are relayed as they come, not assembled into a
 * completion: the cost of the upstream streaming, with nothing of a gateway's reading of it. Its
 * client gets those SSE bytes, not a completion: a measuring stick, not a gateway (bench/ladder.ts).
 */
import { randomBytes } from "node:crypto";
import { Pool } from "undici";
import { parseChatCompletionRequest } from "../src/dialects/openai/parse-chat-completion-request.js";
import { classifyRequest } from "../src/privacy/classify-request.js";
import { AuditJournal } from "../src/store/audit-journal.js";
import { egressValues } from "../src/store/log-tables.js";
import { serveMeasuringStick } from "./measuring-stick.js";

const upstream = process.env.BENCH_UPSTREAM as string;
const STREAM = process.env.BENCH_MINIMAL_STREAM === "1";
const pool = new Pool(upstream, { connections: 64, keepAliveTimeout: 60_000 });
const journal = new AuditJournal(process.env.BENCH_FLOOR_DIR as string, randomBytes(32));
// As tandem's store takes a journal's rows: a hand-over every 50 ms, the file in use ended when old or long enough.
setInterval(() => journal.handOver(), 50).unref();

serveMeasuringStick(
  async (raw, req, res) => {
    const parsed = JSON.parse(raw) as Record<string, unknown>;
    const sensitivity = classifyRequest(parseChatCompletionRequest(parsed).chat).level;
    const model = String(parsed.model);
    parsed.model = model.slice(model.indexOf("/") + 1);
    if (STREAM) {
      parsed.stream = true;
      parsed.stream_options = { include_usage: true };
    }
    const body = JSON.stringify(parsed);
    journal.append(egressValues({ target: model, sensitivity, body }) as never);
    const answer = await pool.request({
      method: "POST",
      path: req.url ?? "/",
      headers: { "content-type": "application/json" },
      body,
    });
    res.writeHead(answer.statusCode, { "content-type": String(answer.headers["content-type"] ?? "application/json") });
    for await (const piece of answer.body) res.write(piece);
    res.end();
  },
  () => journal.close(),
);
