/**
 * The floor any Node gateway pays: parse the JSON body, forward it over a keep-alive pool, pipe the
 * answer back. No validation, no translation, no metrics.
 */
import { createServer } from "node:http";
import { Pool } from "undici";

const upstream = process.env.BENCH_UPSTREAM as string;
const pool = new Pool(upstream, { connections: 64, keepAliveTimeout: 60_000 });

const server = createServer((req, res) => {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (d) => {
    body += d;
  });
  req.on("end", async () => {
    try {
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
    } catch (err) {
      res.writeHead(502);
      res.end(String(err));
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 })}\n`);
});
