import { type EmbedRequest, GatewayError } from "../../core/index.js";
import { type EmbeddingRequestBody, embeddingRequestSchema } from "./embeddings-api.js";
import { parseOpenAIBody } from "./parse-openai-body.js";

/** OpenAI's own cap on inputs per request. */
const MAX_INPUTS = 2048;

export type EmbeddingEncoding = "float" | "base64";

export interface ParsedEmbeddingRequest {
  embed: EmbedRequest;
  encodingFormat: EmbeddingEncoding;
}

export function parseEmbeddingRequest(body: unknown): ParsedEmbeddingRequest {
  const wire = parseOpenAIBody(embeddingRequestSchema, body);
  const embed: EmbedRequest = { model: wire.model, input: inputTexts(wire.input) };
  if (wire.dimensions != null) embed.dimensions = wire.dimensions;
  if (wire.user != null && wire.user !== "") embed.user = wire.user;
  return { embed, encodingFormat: wire.encoding_format ?? "float" };
}

function inputTexts(input: EmbeddingRequestBody["input"]): string[] {
  const list = typeof input === "string" ? [input] : input;
  if (list.length === 0) {
    throw new GatewayError("invalid_request", "Invalid value for 'input': expected at least one string.", { param: "input" });
  }
  if (list.length > MAX_INPUTS) {
    throw new GatewayError("invalid_request", `Invalid value for 'input': at most ${MAX_INPUTS} inputs per request.`, {
      param: "input",
    });
  }
  return list.map((item, i) => {
    const param = typeof input === "string" ? "input" : `input[${i}]`;
    if (typeof item !== "string") {
      throw new GatewayError("invalid_request", `Invalid value for '${param}': token-id inputs are not supported; send text.`, {
        param,
      });
    }
    if (item === "") {
      throw new GatewayError("invalid_request", `Invalid value for '${param}': the input must not be empty.`, { param });
    }
    return item;
  });
}
