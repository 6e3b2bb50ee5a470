import { type ChatRequest, type ContentPart, GatewayError, type Message } from "../../core/index.js";
import { decodeOllamaImage } from "./decode-ollama-image.js";
import type { OllamaGenerateRequest } from "./ollama-server-api.js";
import { ollamaLogprobs } from "./parse-ollama-chat-request.js";
import { parseOllamaSampling } from "./parse-ollama-sampling.js";
import { ollamaThink } from "./parse-ollama-think.js";

/**
 * POST /api/generate body -> canonical chat request: `system` becomes a system message and the
 * prompt (with its images) one user message. `raw`, `template` and `context` are accepted and
 * ignored: they drive a local engine's prompt template and KV state, which remote targets do not
 * expose (`raw` with any of the others is refused, as Ollama refuses it). A non-empty `suffix`
 * (fill-in-the-middle) is refused, since no chat target can honour it.
 */
export function parseOllamaGenerateRequest(body: OllamaGenerateRequest): ChatRequest {
  // Raw mode sends the prompt untemplated, so there is nothing to put a template, system prompt or
  // earlier context in: Ollama refuses the mix with this 400 before it loads anything.
  if (body.raw && (body.template || body.system || (body.context?.length ?? 0) > 0)) {
    throw new GatewayError("invalid_request", "raw mode does not support template, system, or context", { param: "raw" });
  }
  if (body.suffix) {
    throw new GatewayError("invalid_request", "Invalid value for 'suffix': fill-in-the-middle is not supported", {
      param: "suffix",
    });
  }
  const messages: Message[] = [];
  if (body.system) messages.push({ role: "system", content: body.system });
  const content: ContentPart[] = [{ type: "text", text: body.prompt ?? "" }];
  body.images?.forEach((image, i) => {
    content.push(decodeOllamaImage(image, `images[${i}]`));
  });
  messages.push({ role: "user", content });
  return {
    model: body.model,
    messages,
    stream: body.stream ?? true,
    ...parseOllamaSampling(body.format, body.options),
    ...ollamaLogprobs(body),
    ...(body.think != null && { reasoning: ollamaThink(body.think) }),
  };
}
