import {
  fileDataUrl,
  filePartAsText,
  type ImagePart,
  type Message,
  type ProviderChatRequest,
  textOf,
  toolResultText,
  withJsonModeWord,
} from "../../core/index.js";
import { systemAfterToolResults } from "../../core/system-after-tool-results.js";
import { openAIEffort } from "./convert-to-openai-chat-request.js";
import { imageUrl, OPENAI_FILE_TYPE } from "./convert-to-openai-messages.js";
import { openAIStrict } from "./openai-strict-schema.js";

type Json = Record<string, unknown>;

/**
 * Canonical request -> POST /responses body, for an upstream that serves the model only through
 * OpenAI's Responses API (config `responses: "only"`): stateless (`store: false`, the whole
 * conversation as `input` items), streamed unless `request.whole`. System messages are `developer`
 * messages where they stand (as OpenAI maps them); user text and images are `input_text` and
 * `input_image` parts; an assistant turn is its `output_text` message and a `function_call` item per
 * call; a tool result is a `function_call_output` (a list of `input_text` and `input_image` parts when
 * it has images). Earlier reasoning goes back only as this upstream
 * made it (a `reasoning` item with its `encrypted_content`, which is asked for with `include`);
 * other reasoning is left out, as on the chat wire. `topK`, `stop` and `seed` have no field in this
 * API and are not sent (see OpenAIProvider.unsent).
 */
export function convertToOpenAIResponsesRequest(request: ProviderChatRequest, target: string): Json {
  const body: Json = {
    model: request.upstreamModel,
    // JSON mode is refused without the word "json" in the input (withJsonModeWord).
    input: inputItems(request.responseFormat?.type === "json" ? withJsonModeWord(request.messages) : request.messages, target),
    store: false,
    stream: request.whole !== true,
    include: ["reasoning.encrypted_content"],
  };
  const tools = request.tools ?? [];
  if (tools.length > 0) {
    body.tools = tools.map((tool) => ({
      type: "function",
      name: tool.name,
      ...(tool.description !== undefined && { description: tool.description }),
      parameters: tool.parameters,
      // The Responses API makes functions strict unless told: the chat wire's default is not.
      strict: tool.strict ?? false,
    }));
    if (request.parallelToolCalls !== undefined) body.parallel_tool_calls = request.parallelToolCalls;
  }
  if (request.toolChoice !== undefined && (tools.length > 0 || request.toolChoice === "none")) {
    body.tool_choice =
      typeof request.toolChoice === "string" ? request.toolChoice : { type: "function", name: request.toolChoice.name };
  }
  const text: Json = {};
  const format = request.responseFormat;
  if (format?.type === "json") text.format = { type: "json_object" };
  if (format?.type === "json_schema") {
    text.format = {
      type: "json_schema",
      name: format.name ?? "response",
      schema: format.schema,
      ...(openAIStrict(format) !== undefined && { strict: openAIStrict(format) }),
    };
  }
  if (request.verbosity !== undefined) text.verbosity = request.verbosity;
  if (Object.keys(text).length > 0) body.text = text;
  if (request.maxTokens !== undefined) body.max_output_tokens = request.maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.user !== undefined) body.user = request.user;
  if (request.promptCacheKey !== undefined) body.prompt_cache_key = request.promptCacheKey;
  if (request.safetyIdentifier !== undefined) body.safety_identifier = request.safetyIdentifier;
  if (request.serviceTier !== undefined) body.service_tier = request.serviceTier;
  if (request.logprobs !== undefined) {
    (body.include as string[]).push("message.output_text.logprobs");
    if (request.logprobs.topLogprobs !== undefined) body.top_logprobs = request.logprobs.topLogprobs;
  }
  const reasoning = request.reasoning;
  if (reasoning?.enabled) {
    body.reasoning = { effort: openAIEffort(reasoning) };
  }
  return body;
}

function inputItems(messages: readonly Message[], target: string): Json[] {
  const items: Json[] = [];
  for (const message of systemAfterToolResults(messages)) {
    switch (message.role) {
      case "system":
        items.push({ type: "message", role: "developer", content: [{ type: "input_text", text: message.content }] });
        break;
      case "user":
        items.push({
          type: "message",
          role: "user",
          content: message.content.flatMap((part): Json[] => {
            if (part.type === "text") return [{ type: "input_text", text: part.text }];
            if (part.type === "file") {
              if (part.mediaType === OPENAI_FILE_TYPE) {
                return [{ type: "input_file", filename: part.filename ?? "file.pdf", file_data: fileDataUrl(part) }];
              }
              const text = filePartAsText(part);
              return text === undefined ? [] : [{ type: "input_text", text: text.text }];
            }
            return [inputImage(part)];
          }),
        });
        break;
      case "assistant": {
        for (const part of message.reasoning ?? []) {
          // Only the upstream that sealed it can read encrypted reasoning back.
          if (part.encryptedContent === undefined || part.producer !== target) continue;
          items.push({
            type: "reasoning",
            encrypted_content: part.encryptedContent,
            summary: part.text === "" ? [] : [{ type: "summary_text", text: part.text }],
          });
        }
        const text = textOf(message.content);
        if (text !== "") {
          items.push({ type: "message", role: "assistant", content: [{ type: "output_text", text, annotations: [] }] });
        }
        for (const call of message.toolCalls ?? []) {
          items.push({
            type: "function_call",
            call_id: call.id,
            name: call.name,
            arguments: call.arguments === "" ? "{}" : call.arguments,
          });
        }
        break;
      }
      case "tool": {
        const output = toolResultText(message);
        // With images (a screenshot, an image file an agent read), the output is a list of parts.
        const images = message.content.flatMap((part) => (part.type === "image" ? [inputImage(part)] : []));
        items.push({
          type: "function_call_output",
          call_id: message.toolCallId,
          output: images.length === 0 ? output : [...(output === "" ? [] : [{ type: "input_text", text: output }]), ...images],
        });
        break;
      }
    }
  }
  return items;
}

/** An image as a Responses `input_image` part. */
function inputImage(part: ImagePart): Json {
  return { type: "input_image", image_url: imageUrl(part.source), detail: part.detail ?? "auto" };
}
