/**
 * The server around each of the bench's measuring sticks (bench/bare-proxy.ts, bench/minimal-gateway.ts,
 * bench/floor-server.ts): a bare node:http server on 127.0.0.1 that reads a request's body whole as
 * text and hands it to `answer` (a failure is a 502 with its message), keeps connections alive as the
 * gateways do, and prints `{"port":N}` on stdout once it listens (bench/servers.ts's `start` reads it).
 * `onExit` runs on SIGTERM, before the process exits.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

export function serveMeasuringStick(
  answer: (raw: string, req: IncomingMessage, res: ServerResponse) => Promise<void>,
  onExit?: () => void,
): void {
  const server = createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (piece: string) => {
      raw += piece;
    });
    req.on("end", () => {
      answer(raw, req, res).catch((err: Error) => {
        if (!res.headersSent) res.writeHead(502);
        res.end(String(err));
      });
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    process.stdout.write(`${JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 })}\n`);
  });
  process.on("SIGTERM", () => {
    onExit?.();
    process.exit(0);
  });
}
