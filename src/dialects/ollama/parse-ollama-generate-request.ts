import { type ChatRequest, type CompletionPrompt, type ContentPart, GatewayError, type Message } from "../../core/index.js";
import { decodeOllamaImage } from "./decode-ollama-image.js";
import type { OllamaGenerateRequest } from "./ollama-server-api.js";
import { ollamaLogprobs } from "./parse-ollama-chat-request.js";
import { parseOllamaSampling } from "./parse-ollama-sampling.js";
import { ollamaThink } from "./parse-ollama-think.js";

/**
 * POST /api/generate body -> canonical chat request: `system` becomes a system message and the
 * prompt (with its images) one user message. `raw: true` and a non-empty `suffix`
 * (fill-in-the-middle) make the prompt a CompletionPrompt as well: the embedded engine continues it
 * as text (with a suffix, between its FIM tokens), an Ollama upstream is sent the body as it came,
 * a target that can only chat is sent the user message (`raw` named in x-tandem-warnings), and one
 * that cannot insert is skipped for a suffix (the router refuses it when none can). `template` and
 * `context` drive an Ollama model's own template and KV state: they reach an Ollama upstream only
 * (`raw` with any of them is refused, as Ollama refuses it).
 */
export function parseOllamaGenerateRequest(body: OllamaGenerateRequest): ChatRequest {
  // Raw mode sends the prompt untemplated, so there is nothing to put a template, system prompt or
  // earlier context in: Ollama refuses the mix with this 400 before it loads anything.
  if (body.raw && (body.template || body.system || (body.context?.length ?? 0) > 0)) {
    throw new GatewayError("invalid_request", "raw mode does not support template, system, or context", { param: "raw" });
  }
  const messages: Message[] = [];
  if (body.system) messages.push({ role: "system", content: body.system });
  const content: ContentPart[] = [{ type: "text", text: body.prompt ?? "" }];
  body.images?.forEach((image, i) => {
    content.push(decodeOllamaImage(image, `images[${i}]`));
  });
  messages.push({ role: "user", content });
  const prompt = body.prompt ?? "";
  // Ollama fills in the middle whenever the suffix is not empty (its FIM template; raw or not).
  const completion: CompletionPrompt | undefined = body.suffix
    ? { prompt, suffix: body.suffix }
    : body.raw
      ? { prompt, rawParam: "raw" }
      : undefined;
  return {
    model: body.model,
    messages,
    ...(completion !== undefined && { completion }),
    stream: body.stream ?? true,
    ...parseOllamaSampling(body.format, body.options),
    ...ollamaLogprobs(body),
    ...(body.think != null && { reasoning: ollamaThink(body.think) }),
  };
}
