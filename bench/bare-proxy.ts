/**
 * The floor any Node gateway pays: parse the JSON body, forward it over a keep-alive pool, pipe the
 * answer back. No validation, no translation, no metrics.
 */
import { Pool } from "undici";
import { serveMeasuringStick } from "./measuring-stick.js";

const upstream = process.env.BENCH_UPSTREAM as string;
const pool = new Pool(upstream, { connections: 64, keepAliveTimeout: 60_000 });

serveMeasuringStick(async (body, req, res) => {
  const parsed = JSON.parse(body) as unknown;
  const answer = await pool.request({
    method: "POST",
    path: req.url ?? "/",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(parsed),
  });
  res.writeHead(answer.statusCode, { "content-type": String(answer.headers["content-type"] ?? "application/json") });
  for await (const piece of answer.body) res.write(piece);
  res.end();
});
