/**
 * The floor for a gateway built as tandem is, on Fastify: parse the JSON body (Fastify's parser),
 * forward it over a keep-alive pool, send the answer back through the reply. No validation, no
 * routing, no logging, no metrics. Compared with bench/bare-proxy.ts (node:http), the difference is
 * what the framework alone costs.
 */
import Fastify from "fastify";
import { Pool } from "undici";

const upstream = process.env.BENCH_UPSTREAM as string;
const pool = new Pool(upstream, { connections: 64, keepAliveTimeout: 60_000 });
const app = Fastify({ logger: false });
app.post("/v1/chat/completions", async (request, reply) => {
  const answer = await pool.request({
    method: "POST",
    path: "/v1/chat/completions",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(request.body),
  });
  reply.code(answer.statusCode).header("content-type", String(answer.headers["content-type"] ?? "application/json"));
  return reply.send(answer.body);
});
const address = await app.listen({ port: 0, host: "127.0.0.1" });
process.stdout.write(`${JSON.stringify({ port: Number(new URL(address).port) })}\n`);
