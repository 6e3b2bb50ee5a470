import { decodeCl100kTokens } from "../../context/decode-cl100k-tokens.js";
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

/**
 * Validates an embeddings body. Its input may be text (a string or a list of them) or token ids
 * (one list of them, or a list of such lists), as OpenAI takes it: ids are read as cl100k_base, the
 * encoding of OpenAI's embedding models (what tiktoken-using clients such as LangChain send), and
 * their text goes to whichever target answers.
 */
export async function parseEmbeddingRequest(body: unknown): Promise<ParsedEmbeddingRequest> {
  const wire = parseOpenAIBody(embeddingRequestSchema, body);
  const embed: EmbedRequest = { model: wire.model, input: await inputTexts(wire.input) };
  if (wire.dimensions != null) embed.dimensions = wire.dimensions;
  if (wire.user != null && wire.user !== "") embed.user = wire.user;
  return { embed, encodingFormat: wire.encoding_format ?? "float" };
}

async function inputTexts(input: EmbeddingRequestBody["input"]): Promise<string[]> {
  // One input of token ids (a list of numbers), or a list of inputs (strings, or lists of ids).
  const list: (string | number[])[] =
    typeof input === "string"
      ? [input]
      : input.length > 0 && input.every((item) => typeof item === "number")
        ? [input as number[]]
        : (input as (string | number[])[]);
  const tokens = typeof input !== "string" && list.length === 1 && list[0] === input;
  if (list.length === 0) {
    throw new GatewayError(
      "invalid_request",
      "Invalid 'input': empty array. Expected an array with minimum length 1, but got an empty array instead.",
      {
        param: "input",
        reason: "empty_array",
      },
    );
  }
  if (list.length > MAX_INPUTS) {
    throw new GatewayError(
      "invalid_request",
      `Invalid 'input': array too long. Expected an array with maximum length ${MAX_INPUTS}, but got an array with length ${list.length} instead.`,
      {
        param: "input",
        reason: "array_above_max_length",
      },
    );
  }
  const texts: string[] = [];
  for (const [i, item] of list.entries()) {
    const param = typeof input === "string" || tokens ? "input" : `input[${i}]`;
    if (typeof item === "number") {
      throw new GatewayError(
        "invalid_request",
        `Invalid type for '${param}': expected a string or an array of token ids, but got a number instead.`,
        {
          param,
          reason: "invalid_type",
        },
      );
    }
    if (item.length === 0) {
      throw new GatewayError("invalid_request", `Invalid value for '${param}': the input must not be empty.`, { param });
    }
    if (typeof item === "string") {
      texts.push(item);
      continue;
    }
    const text = await decodeCl100kTokens(item);
    if (text === undefined) {
      throw new GatewayError(
        "invalid_request",
        `Invalid value for '${param}': token ids must be whole numbers that are tokens of cl100k_base (OpenAI's embedding models' encoding).`,
        { param },
      );
    }
    texts.push(text);
  }
  return texts;
}
