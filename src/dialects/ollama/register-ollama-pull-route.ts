import type { ServerResponse } from "node:http";
import type { Gateway } from "../../core/index.js";
import { GatewayError } from "../../core/index.js";
import type { RouteTable } from "../shared/index.js";
import { clientSignal, parseBody } from "../shared/index.js";
import { ollamaPullRequestSchema } from "./ollama-server-api.js";
import { ollamaPullStatus } from "./render-ollama-pull-status.js";

/**
 * POST /api/pull: downloads a GGUF model from Hugging Face for the local engine (an alias such as
 * `qwen2.5-0.5b`, or Ollama's `hf.co/{repo}:{quant}`). Streams Ollama's progress lines as NDJSON
 * (`pulling manifest`, `pulling <digest>` with total/completed, `verifying sha256 digest`, `writing
 * manifest`, `success`). The stream opens with its first line: a refusal before it (a name no pull
 * takes, no local engine) keeps its status and is answered in Ollama's error shape, as with `stream:
 * false`; a failure after the stream began is an `{"error": ...}` line, as in Ollama.
 */
export function registerOllamaPullRoute(scope: RouteTable, gateway: Gateway): void {
  scope.post("/api/pull", async (request, reply) => {
    const body = parseBody(ollamaPullRequestSchema, request.body);
    const name = body.model || body.name;
    if (!name) throw new GatewayError("invalid_request", "model is required", { param: "model" });
    const signal = clientSignal(request, reply);
    if (body.stream === false) {
      await gateway.pull(name, () => {}, signal);
      return { status: "success" };
    }
    let stream: ServerResponse | undefined;
    const open = (): ServerResponse => {
      if (stream === undefined) {
        reply.hijack();
        stream = reply.raw;
        stream.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-cache" });
      }
      return stream;
    };
    try {
      await gateway.pull(
        name,
        (event) => {
          const res = open();
          const line = ollamaPullStatus(event);
          if (line && !res.writableEnded) res.write(`${JSON.stringify(line)}\n`);
        },
        signal,
      );
    } catch (err) {
      if (stream === undefined) throw err;
      if (!stream.writableEnded) stream.write(`${JSON.stringify({ error: GatewayError.from(err).message })}\n`);
    }
    open().end();
  });
}
