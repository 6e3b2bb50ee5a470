/**
 * Lenient zod schemas of the Ollama requests tandem accepts (docs/api.md and api/types.go in
 * ollama/ollama; ollama-js src/interfaces.ts). Unknown fields are stripped, `null` is accepted
 * wherever a field is optional (clients replay response messages, which carry `images: null`),
 * and a wrong type is a 400 naming the field.
 */
import { z } from "zod";
import { int64 } from "../shared/index.js";
import type { OllamaThink } from "./parse-ollama-think.js";

/** `keep_alive`: a duration string ("5m", "1.5h") or seconds. Accepted; nothing is kept loaded for remote targets. */
const keepAlive = z.union([z.string(), z.number()]).nullish();

/** `think`: a boolean or a level; checked in Ollama's words by parseOllamaThink (parse-ollama-think.ts). */
const think = z.unknown().optional();

/** `logprobs` (Ollama 0.12.11+): the answer's token log probabilities (ChatRequest.logprobs). */
const logprobs = z.boolean().nullish();

/**
 * `top_logprobs`: alternatives per token; only with `logprobs: true`, ignored otherwise. Its range,
 * 0-20, is checked in Ollama's words by ollamaLogprobs (parse-ollama-chat-request.ts).
 */
const topLogprobs = z.number().int().nullish();

/** `format`: "json" or a JSON schema object. */
const format = z.union([z.string(), z.record(z.string(), z.unknown())]).nullish();

/**
 * The runtime options tandem maps. Every other Modelfile option (mirostat, repeat_penalty, num_gpu...)
 * is stripped: it has no meaning for a remote target.
 */
export const ollamaOptionsSchema = z
  .object({
    temperature: z.number().nullish(),
    top_p: z.number().nullish(),
    top_k: z.number().int().nullish(),
    /** -1 = no limit, -2 = until the context is full; both mean "no maxTokens" here. */
    num_predict: z.number().int().nullish(),
    stop: z.union([z.string(), z.array(z.string())]).nullish(),
    seed: int64().nullish(),
    presence_penalty: z.number().nullish(),
    frequency_penalty: z.number().nullish(),
    /** The context window to run the model with (ChatRequest.contextSize); 0 or less leaves the model's own. */
    num_ctx: z.number().int().nullish(),
  })
  .nullish();

export type OllamaOptions = z.output<typeof ollamaOptionsSchema>;

const toolCallSchema = z.object({
  /** Sent by Ollama >= 0.12.10 and echoed back by clients that keep the response message. */
  id: z.string().nullish(),
  function: z.object({
    index: z.number().int().nullish(),
    name: z.string(),
    /** An object on the wire; a JSON string is tolerated (clients ported from OpenAI send one). */
    arguments: z.union([z.record(z.string(), z.unknown()), z.string()]).nullish(),
  }),
});

export const ollamaMessageSchema = z.object({
  role: z.string(),
  content: z.string().nullish(),
  /** Base64-encoded images (no data: prefix on the wire, though one is tolerated). */
  images: z.array(z.string()).nullish(),
  tool_calls: z.array(toolCallSchema).nullish(),
  /** On tool messages: the tool whose result this is. */
  tool_name: z.string().nullish(),
  /** On tool messages: the call this answers (Ollama >= 0.12.10). */
  tool_call_id: z.string().nullish(),
  /** OpenAI-style spelling of tool_name some clients send. */
  name: z.string().nullish(),
  /** A thinking model's reasoning from an earlier turn: reasoning. */
  thinking: z.string().nullish(),
});

export type OllamaMessage = z.output<typeof ollamaMessageSchema>;

const toolSchema = z.object({
  type: z.string().nullish(),
  function: z.object({
    name: z.string(),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
  }),
});

/**
 * No `messages` (absent, null as Ollama's Go client sends, or an empty list) asks Ollama to load
 * the model and is answered that way, as Ollama itself does (Go decodes a missing field as empty).
 */
export const ollamaChatRequestSchema = z.object({
  /** Required: absent, null or "" is Ollama's 400 `model is required` (see requiredModel). */
  model: z.string().nullish(),
  messages: z.array(ollamaMessageSchema).nullish(),
  tools: z.array(toolSchema).nullish(),
  format,
  options: ollamaOptionsSchema,
  /** Ollama streams unless told otherwise. */
  stream: z.boolean().nullish(),
  keep_alive: keepAlive,
  think,
  logprobs,
  top_logprobs: topLogprobs,
});

/** A parsed request as the route has checked it: its model there (requiredModel), its `think` valid (parseOllamaThink). */
export type Checked<T> = Omit<T, "model" | "think"> & { model: string; think?: OllamaThink | undefined };

export type OllamaChatRequest = Checked<z.output<typeof ollamaChatRequestSchema>>;

/**
 * No `prompt` (absent, as in Ollama's own docs example, or "", as its Go client sends) is Ollama's
 * "load the model" request and is answered that way.
 */
export const ollamaGenerateRequestSchema = z.object({
  /** Required: absent, null or "" is Ollama's 400 `model is required` (see requiredModel). */
  model: z.string().nullish(),
  prompt: z.string().nullish(),
  /** Fill-in-the-middle: the text after the gap (CompletionPrompt.suffix); "" is none. */
  suffix: z.string().nullish(),
  system: z.string().nullish(),
  images: z.array(z.string()).nullish(),
  format,
  options: ollamaOptionsSchema,
  stream: z.boolean().nullish(),
  /** The prompt untemplated (CompletionPrompt): continued as text where the target can, else chatted (named). */
  raw: z.boolean().nullish(),
  /** For an Ollama upstream only (in the client's body): other targets apply their own chat template. */
  template: z.string().nullish(),
  /** For an Ollama upstream only: token contexts only mean something to the engine that made them. */
  context: z.array(z.number()).nullish(),
  keep_alive: keepAlive,
  think,
  logprobs,
  top_logprobs: topLogprobs,
});

export type OllamaGenerateRequest = Checked<z.output<typeof ollamaGenerateRequestSchema>>;

export const ollamaEmbedRequestSchema = z.object({
  /** Required: absent, null or "" is Ollama's 400 `model is required` (see requiredModel). */
  model: z.string().nullish(),
  /** A string or a list of strings; checked in Ollama's words by parseOllamaEmbedInput. */
  input: z.unknown().optional(),
  /**
   * Ollama's default, true: an input longer than the model takes is cut to it (by the embedded
   * engine and an Ollama upstream; other targets refuse it as their APIs do); false refuses it.
   */
  truncate: z.boolean().nullish(),
  dimensions: z.number().int().positive().nullish(),
  options: ollamaOptionsSchema,
  keep_alive: keepAlive,
});

/** The legacy single-prompt endpoint, POST /api/embeddings. */
export const ollamaEmbeddingsRequestSchema = z.object({
  /** Required: absent, null or "" is Ollama's 400 `model is required` (see requiredModel). */
  model: z.string().nullish(),
  prompt: z.string().nullish(),
  options: ollamaOptionsSchema,
  keep_alive: keepAlive,
});

/** POST /api/pull: `model` (or the deprecated `name`): an alias, `hf.co/{repo}:{quant}`, `{repo}:{quant}` or a repo. */
export const ollamaPullRequestSchema = z.object({
  model: z.string().nullish(),
  name: z.string().nullish(),
  /** Accepted and ignored: downloads are always over HTTPS from the hub (HF_ENDPOINT). */
  insecure: z.boolean().nullish(),
  stream: z.boolean().nullish(),
});

/** POST /api/push (api.PushRequest): only the name is read, to say that tandem does not push. */
export const ollamaPushRequestSchema = z.object({
  model: z.string().nullish(),
  name: z.string().nullish(),
});

/** DELETE /api/delete: `model`, or `name` as older clients (and the ollama-js client) send. */
export const ollamaDeleteRequestSchema = z.object({
  model: z.string().nullish(),
  name: z.string().nullish(),
});

/** POST /api/copy. */
export const ollamaCopyRequestSchema = z.object({
  source: z.string().min(1),
  destination: z.string().min(1),
});

/** POST /api/create, in Ollama's current shape (`from`, `files` of blob digests; no Modelfile text). */
export const ollamaCreateRequestSchema = z.object({
  model: z.string().nullish(),
  /** Older clients' name for `model`. */
  name: z.string().nullish(),
  from: z.string().nullish(),
  files: z.record(z.string(), z.string()).nullish(),
  adapters: z.record(z.string(), z.string()).nullish(),
  template: z.string().nullish(),
  license: z.union([z.string(), z.array(z.string())]).nullish(),
  system: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  messages: z.array(z.unknown()).nullish(),
  quantize: z.string().nullish(),
  stream: z.boolean().nullish(),
  /** The old API's Modelfile text: refused with a clear message (see the route). */
  modelfile: z.string().nullish(),
});

/** POST /api/show: `model`, or the deprecated `name`. */
export const ollamaShowRequestSchema = z.object({
  model: z.string().nullish(),
  name: z.string().nullish(),
  verbose: z.boolean().nullish(),
});

/** Timing fields of a final chunk, in nanoseconds, and token counts. */
export interface OllamaMetrics {
  total_duration: number;
  load_duration: number;
  prompt_eval_count: number;
  prompt_eval_duration: number;
  eval_count: number;
  eval_duration: number;
}

export interface OllamaToolCallOut {
  id: string;
  /** `arguments`: a JsonSplice stand-in for the object's text (see argumentsJson), until the answer is written out. */
  function: { index: number; name: string; arguments: string };
}

export interface OllamaAssistantMessageOut {
  role: "assistant";
  content: string;
  /** The model's reasoning, unless the client said `think: false`. */
  thinking?: string;
  tool_calls?: OllamaToolCallOut[];
}
