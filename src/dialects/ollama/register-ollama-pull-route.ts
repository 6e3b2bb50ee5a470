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
 * manifest`, `success`); a failure after the stream began is an `{"error": ...}` line, as in Ollama.
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
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-cache" });
    try {
      await gateway.pull(
        name,
        (event) => {
          const line = ollamaPullStatus(event);
          if (line && !res.writableEnded) res.write(`${JSON.stringify(line)}\n`);
        },
        signal,
      );
    } catch (err) {
      if (!res.writableEnded) res.write(`${JSON.stringify({ error: GatewayError.from(err).message })}\n`);
    }
    res.end();
  });
}
