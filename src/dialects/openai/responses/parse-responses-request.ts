import {
  type ChatRequest,
  FILE_SEARCH_FUNCTION,
  type FileSearchTool,
  GatewayError,
  type HostedServer,
  hostedToolName,
  logprobsRequest,
  type ToolChoice,
  type ToolDefinition,
  type WireOnly,
} from "../../../core/index.js";
import { headerSafe } from "../../shared/index.js";
import { ALLOWED_TOOLS_APPROXIMATED } from "../allowed-tools-choice.js";
import { customToolDefinition, parseCustomTool } from "../custom-tools.js";
import { parseOpenAIBody, parseOpenAIPart, typeName } from "../parse-openai-body.js";
import { type InputEntry, normalizeInputEntries, parseInclude, parseMetadata, StateApiError } from "../state/index.js";
import { checkCarriedPart, type FileReferences } from "./check-carried-part.js";
import { checkConfigurationUpdate } from "./configuration-updates.js";
import { type NamespacedTool, namespacedToolName } from "./namespaced-tools.js";
import { parseFileSearchTool } from "./parse-file-search-tool.js";
import { parseMcpTools } from "./parse-mcp-tools.js";
import { reasoningControl, responseFormat } from "./response-settings.js";
import { ResponseWarnings } from "./response-warnings.js";
import { functionToolSchema, KNOWN_FIELDS, type ResponsesRequestBody, responsesRequestSchema } from "./responses-api.js";

/** The request fields a Response object repeats back, as OpenAI fills them in. */
export interface ResponseEcho {
  background: boolean;
  instructions: string | null;
  max_output_tokens: number | null;
  max_tool_calls: number | null;
  metadata: Record<string, string>;
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  conversation: { id: string } | null;
  prompt_cache_key: string | null;
  reasoning: { effort: string | null; summary: string | null };
  safety_identifier: string | null;
  service_tier: string;
  store: boolean;
  temperature: number;
  text: { format: Record<string, unknown>; verbosity: string };
  tool_choice: unknown;
  tools: Record<string, unknown>[];
  top_logprobs: number;
  top_p: number;
  truncation: "auto" | "disabled";
  user: string | null;
}

export interface ParsedResponsesRequest {
  /** The canonical request without its messages: those are composed from state and input (see compose-conversation.ts). */
  chat: Omit<ChatRequest, "messages">;
  instructions: string | undefined;
  /** The new input, in order; references are resolved against the stored history. */
  input: InputEntry[];
  /**
   * Parts of the new input with no canonical form (`input_file`, `input_audio`, an image by
   * `file_id`), named by their param: only a Responses-native target can be sent them (NativeRequest.wireOnly).
   */
  wireOnly: WireOnly[];
  /** The `wireOnly` entries of parts by `file_id`, with the id: dropped when tandem has the file. */
  fileReferences: FileReferences;
  previousResponseId: string | undefined;
  conversationId: string | undefined;
  /** `store` (default true): whether the response is saved and can be continued or retrieved. */
  store: boolean;
  /** `background`: answered at once, the turn run on its own (background-responses.ts). */
  background: boolean;
  /** The function tools of `namespace` tools, by the flat name the target is given (namespaced-tools.ts). */
  namespaced: ReadonlyMap<string, NamespacedTool>;
  /** The names of the request's custom tools, offered to the target as function tools (custom-tools.ts). */
  custom: ReadonlySet<string>;
  echo: ResponseEcho;
  /**
   * What of the body the canonical form does not carry, by field, for `x-tandem-warnings` ("<field>
   * not sent to <target>") when a target on another wire answers (NativeRequest.lost): the fields
   * this schema does not know, and `metadata` on a response that is not stored (a stored one keeps
   * it). A Responses-native upstream is sent the client's body, these fields with it.
   */
  lost: string[];
  /** Whatever was left out on the way (unsupported tools, items that cannot cross). */
  warnings: ResponseWarnings;
  /** The request's `{type: "mcp"}` tools: servers whose tools tandem's tool loop runs for the model. */
  mcp: HostedServer[];
  /** Where each `mcp` tool was given (`tools[i]`), by its label: for a refusal found once the route is known. */
  mcpParams: ReadonlyMap<string, string>;
  /** `max_tool_calls`: the most hosted calls the answer may make. */
  maxToolCalls: number | undefined;
  /** The request's `file_search` tool: tandem's vector stores, searched by its tool loop for the model. */
  fileSearch: FileSearchTool | undefined;
  /** `include: ["file_search_call.results"]`: a `file_search_call` item shows its results. */
  fileSearchResults: boolean;
}

/** Validates a POST /v1/responses body and maps what the canonical form carries to a ChatRequest. */
/** `routeTools`: the model is a route with tools of its own, which `required` without the request's may call (routeToolsAnswerChoice). */
export function parseResponsesRequest(body: unknown, routeTools = false): ParsedResponsesRequest {
  const wire = parseOpenAIBody(responsesRequestSchema, body);
  if (wire.background === true && wire.store === false) {
    // A background response is polled for by its id: it must be stored.
    throw new GatewayError("invalid_request", "Invalid value for 'store': a background response must be stored (store: true).", {
      param: "store",
    });
  }
  const warnings = new ResponseWarnings();
  const include = checkInclude(wire.include);
  const metadata = asGatewayError(() => parseMetadata(wire.metadata));
  const wireOnly: WireOnly[] = [];
  const fileReferences: FileReferences = new Map();
  const input = normalizeInput(wire.input, wireOnly, fileReferences);
  // A stored prompt (a template kept by the upstream, with its variables) may hold the whole
  // conversation: without input, only a Responses-native target can answer it.
  const prompt = (body as { prompt?: unknown } | null)?.prompt;
  if (input.length === 0 && typeof prompt === "object" && prompt !== null && !Array.isArray(prompt))
    wireOnly.push({ param: "prompt", what: "a stored prompt with no input" });
  input.forEach((entry, i) => {
    if (entry.kind === "item" && entry.item.type === "configuration_update") checkConfigurationUpdate(entry.item, `input[${i}]`);
  });
  const conversationId = typeof wire.conversation === "string" ? wire.conversation : (wire.conversation?.id ?? undefined);
  const previousResponseId = wire.previous_response_id ?? undefined;
  if (conversationId !== undefined && previousResponseId !== undefined) {
    throw new GatewayError(
      "invalid_request",
      "Mutually exclusive parameters: Ensure you are only providing one of: 'previous_response_id' or 'conversation'.",
      { param: "conversation", reason: "mutually_exclusive_parameters" },
    );
  }

  const chat: Omit<ChatRequest, "messages"> = { model: wire.model, stream: wire.stream === true };
  const { tools, echoed, namespaced, custom } = functionTools(wire.tools, warnings);
  const mcp = parseMcpTools(wire.tools);
  const fileSearch = parseFileSearchTool(wire.tools);
  if (tools.length > 0) chat.tools = tools;
  const allowed = allowedTools(wire.tool_choice, tools, namespaced);
  if (allowed) {
    // The closest canonical form: only the allowed tools offered, with the mode as the choice (a
    // Responses-native upstream gets the choice itself).
    const kept = tools.filter((t) => allowed.names.has(t.name) || allowed.names.has(namespaced.get(t.name)?.name ?? ""));
    if (kept.length > 0) chat.tools = kept;
    else delete chat.tools;
    chat.toolChoice = allowed.mode;
  } else if (wire.tool_choice != null)
    chat.toolChoice = toolChoice(wire.tool_choice, tools, mcp.servers, fileSearch !== undefined || routeTools);
  if (wire.parallel_tool_calls != null) chat.parallelToolCalls = wire.parallel_tool_calls;
  const format = wire.text?.format;
  if (format != null) chat.responseFormat = responseFormat(format);
  if (wire.max_output_tokens != null) chat.maxTokens = wire.max_output_tokens;
  if (wire.temperature != null) chat.temperature = wire.temperature;
  if (wire.top_p != null) chat.topP = wire.top_p;
  if (wire.user != null && wire.user !== "") chat.user = wire.user;
  // Chat completions has these too: an OpenAI-compatible target is sent them, others name them (ChatProvider.unsent).
  if (wire.prompt_cache_key != null) chat.promptCacheKey = wire.prompt_cache_key;
  if (wire.safety_identifier != null) chat.safetyIdentifier = wire.safety_identifier;
  if (wire.service_tier != null && wire.service_tier !== "auto") chat.serviceTier = wire.service_tier;
  if (wire.text?.verbosity != null) chat.verbosity = wire.text.verbosity;
  // OpenAI returns logprobs only when `include` asks for them; top_logprobs alone changes nothing.
  // A target that cannot report them names them (ChatProvider.unsent).
  if (include.includes("message.output_text.logprobs")) chat.logprobs = logprobsRequest(wire.top_logprobs);
  // OpenAI's default is "disabled": a conversation too long for the model is an error, not cut.
  if (wire.truncation !== "auto") chat.fitToWindow = false;
  const effort = wire.reasoning?.effort;
  if (effort != null) chat.reasoning = reasoningControl(effort);
  if (wire.reasoning?.summary != null || wire.reasoning?.generate_summary != null) {
    warnings.add("reasoning-settings", "reasoning summary settings were not passed on: only a Responses upstream reads them");
  }

  if (mcp.servers.length === 0 && fileSearch === undefined) notCarried(wire, warnings);
  const fields = body as Record<string, unknown>;
  for (const field of RESPONSES_ONLY_FIELDS) {
    if (fields[field] != null) warnings.add(`field:${field}`, `${field} was not applied: only a Responses upstream reads it`);
  }
  if (fields.background_options != null) warnings.add(BACKGROUND_OPTIONS_WARNING.key, BACKGROUND_OPTIONS_WARNING.text);

  const lost = canonicalLost(fields, wire.store !== false, metadata);
  // Named, as the chat dialect names it, only when a target on another wire answers.
  if (allowed) lost.push(ALLOWED_TOOLS_APPROXIMATED);

  return {
    chat,
    instructions: wire.instructions ?? undefined,
    input,
    wireOnly,
    fileReferences,
    previousResponseId,
    conversationId,
    store: wire.store !== false,
    background: wire.background === true,
    echo: echo(wire, [...echoed, ...mcp.echoed, ...(fileSearch ? [fileSearch.echoed] : [])], conversationId, metadata),
    lost,
    warnings,
    mcp: mcp.servers,
    mcpParams: mcp.params,
    maxToolCalls: wire.max_tool_calls ?? undefined,
    namespaced,
    custom,
    fileSearch: fileSearch?.tool,
    fileSearchResults: include.includes("file_search_call.results"),
  };
}

/**
 * Request fields openai-node 7 added that only a Responses upstream reads (a native target is sent
 * them as they came): named in the warnings for any other.
 */
const RESPONSES_ONLY_FIELDS = ["access_programs", "image"] as const;

/**
 * openai-node 7's `background_options` (a completion window, a continuation id): tandem runs a
 * background response itself (background-responses.ts), so no target is sent them; named.
 */
export const BACKGROUND_OPTIONS_WARNING = {
  key: "field:background_options",
  text: "background_options was not applied: tandem runs background responses itself",
} as const;

/**
 * The body's fields no target on another wire is sent (ParsedResponsesRequest.lost), as the chat
 * dialect names its own (openAIChatLost): a field sent as null asks for nothing; those named in the
 * warnings already (RESPONSES_ONLY_FIELDS, background_options) are not named twice.
 */
function canonicalLost(fields: Record<string, unknown>, stored: boolean, metadata: Record<string, string>): string[] {
  const lost: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (KNOWN_FIELDS.has(key) || NAMED_FIELDS.has(key) || value == null) continue;
    lost.push(key);
  }
  // Kept with a stored response (and echoed in any); nothing keeps it when the response is not stored.
  if (!stored && Object.keys(metadata).length > 0) lost.push("metadata");
  return lost;
}

/** Unknown to the schema, but named in the warnings in words of their own. */
const NAMED_FIELDS: ReadonlySet<string> = new Set([...RESPONSES_ONLY_FIELDS, "background_options"]);

/**
 * Fields the canonical form has no place for yet: echoed in the Response as OpenAI echoes the
 * request, but not applied by a target that does not speak the Responses API, so named in the warnings.
 */
function notCarried(wire: ResponsesRequestBody, warnings: ResponseWarnings): void {
  const named: string[] = [];
  if (wire.max_tool_calls != null) named.push("max_tool_calls");
  for (const field of named) warnings.add(`field:${field}`, `${field} was not applied: only a Responses upstream reads it`);
}

/** `include`, checked as GET input_items checks it: a value OpenAI does not define is its 400. */
function checkInclude(include: ResponsesRequestBody["include"]): string[] {
  return include == null ? [] : asGatewayError(() => parseInclude({ include }));
}

/** The input through the one item normaliser. */
function normalizeInput(
  input: ResponsesRequestBody["input"],
  wireOnly: WireOnly[],
  fileReferences: FileReferences,
): InputEntry[] {
  return asGatewayError(() =>
    normalizeInputEntries(input, {
      references: true,
      checkPart: (part, param) => checkCarriedPart(part, param, wireOnly, fileReferences),
    }),
  );
}

/** Runs one of the state layer's checks, its errors as gateway errors (this route answers those). */
function asGatewayError<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (!(err instanceof StateApiError)) throw err;
    throw new GatewayError("invalid_request", err.message, {
      ...(err.param !== null && { param: err.param }),
      ...(err.code !== null && { reason: err.code }),
    });
  }
}

function functionTools(
  tools: ResponsesRequestBody["tools"],
  warnings: ResponseWarnings,
): {
  tools: ToolDefinition[];
  echoed: Record<string, unknown>[];
  namespaced: Map<string, NamespacedTool>;
  custom: Set<string>;
} {
  const out: ToolDefinition[] = [];
  const echoed: Record<string, unknown>[] = [];
  const namespaced = new Map<string, NamespacedTool>();
  const custom = new Set<string>();
  /** Each flat name given so far, the field that gave it, and whether a namespace's tool has it. */
  const taken = new Map<string, { param: string; namespaced: boolean }>();
  const take = (name: string, param: string, namespaced: boolean): void => {
    const first = taken.get(name);
    // Two plain functions of one name are the client's to send (the target answers); a namespace's
    // tool under a name another tool has would be dropped or sent twice, and its calls mistaken.
    if (first !== undefined && (first.namespaced || namespaced)) {
      throw new GatewayError(
        "invalid_request",
        `Invalid value for '${param}': '${name}' is already the name of ${first.param} (a namespace's function tool is ` +
          "offered as <namespace>__<name>); rename one of them.",
        { param },
      );
    }
    if (first === undefined) taken.set(name, { param, namespaced });
  };
  (tools ?? []).forEach((raw, i) => {
    // MCP servers' tools and file_search are run by tandem's tool loop (parse-mcp-tools.ts, parse-file-search-tool.ts).
    if (raw.type === "mcp" || raw.type === "file_search") return;
    if (raw.type === "namespace") {
      // Its function tools, each under its flat name (namespaced-tools.ts); calls go back namespaced.
      for (const tool of namespaceTools(raw, i, warnings)) {
        const name = namespacedToolName(tool.namespace, tool.name);
        take(name, tool.param, true);
        namespaced.set(name, { namespace: tool.namespace, name: tool.name });
        if (tool.custom) custom.add(name);
        out.push({ ...tool.definition, name });
      }
      echoed.push(raw as Record<string, unknown>);
      return;
    }
    if (raw.type === "custom") {
      // A function taking one string, `input`; its calls go back as custom tool calls (custom-tools.ts).
      const tool = parseCustomTool(raw, `tools[${i}]`);
      if (raw.async === true) asyncNotApplied(warnings);
      take(tool.name, `tools[${i}].name`, false);
      custom.add(tool.name);
      out.push(customToolDefinition(tool));
      echoed.push({
        type: "custom",
        name: tool.name,
        description: tool.description ?? null,
        format: tool.format ?? { type: "text" },
      });
      return;
    }
    if (raw.type !== "function") {
      // Hosted tools (web_search, code_interpreter, local_shell...) run at OpenAI: only a
      // Responses-native upstream gets them (function, custom, namespace, mcp and file_search tools
      // reach every target). Agent clients send them by default, so leaving them out with a
      // warning keeps the request working where a 400 would fail the client on its first turn.
      warnings.add(
        `tool:${raw.type}`,
        `tools of type '${headerSafe(raw.type)}' were left out: a hosted tool reaches only a Responses-native upstream`,
      );
      // Still echoed as the request gave it, as every request field is: the warning says the model did not see it.
      echoed.push(raw as Record<string, unknown>);
      return;
    }
    // In OpenAI's words, as the body's own fields are ("Missing required parameter: 'tools[0].name'.").
    const tool = parseOpenAIPart(functionToolSchema, raw, `tools[${i}]`);
    if (raw.async === true) asyncNotApplied(warnings);
    take(tool.name, `tools[${i}].name`, false);
    // OpenAI treats a function without parameters as taking none.
    const parameters = tool.parameters ?? { type: "object", properties: {} };
    out.push({
      name: tool.name,
      ...(tool.description != null && { description: tool.description }),
      parameters,
      ...(tool.strict != null && { strict: tool.strict }),
    });
    echoed.push({
      type: "function",
      name: tool.name,
      description: tool.description ?? null,
      parameters,
      // What tandem asked the target for: strict only when the client said so.
      strict: tool.strict ?? null,
    });
  });
  return { tools: out, echoed, namespaced, custom };
}

/**
 * A tool marked `async` (openai-node 7: its output may come back later rather than on the next
 * request): another wire has no such mode, so its calls are answered as any tool's are; named.
 */
function asyncNotApplied(warnings: ResponseWarnings): void {
  warnings.add("tool-async", "async on tools was not applied: only a Responses upstream reads it");
}

/** The function and custom tools of a `namespace` tool (NamespaceTool), checked; any other kind is left out and named. */
function namespaceTools(
  raw: Record<string, unknown>,
  i: number,
  warnings: ResponseWarnings,
): Array<NamespacedTool & { definition: ToolDefinition; param: string; custom?: boolean }> {
  const namespace = raw.name;
  if (typeof namespace !== "string" || namespace === "") {
    throw new GatewayError("invalid_request", `Missing required parameter: 'tools[${i}].name'.`, {
      param: `tools[${i}].name`,
      reason: "missing_required_parameter",
    });
  }
  if (!Array.isArray(raw.tools)) {
    throw new GatewayError("invalid_request", `Invalid value for 'tools[${i}].tools': expected an array of tools.`, {
      param: `tools[${i}].tools`,
    });
  }
  const found: Array<NamespacedTool & { definition: ToolDefinition; param: string; custom?: boolean }> = [];
  raw.tools.forEach((inner: unknown, j: number) => {
    const type = (inner as { type?: unknown } | null)?.type;
    if ((inner as { async?: unknown } | null)?.async === true) asyncNotApplied(warnings);
    if (type === "custom") {
      const tool = parseCustomTool(inner, `tools[${i}].tools[${j}]`);
      found.push({
        namespace,
        name: tool.name,
        param: `tools[${i}].tools[${j}].name`,
        definition: customToolDefinition(tool),
        custom: true,
      });
      return;
    }
    if (type !== "function") {
      warnings.add(
        `tool:namespace:${headerSafe(String(type))}`,
        `tools of type '${headerSafe(String(type))}' in a namespace were left out: tandem supports function and custom tools only`,
      );
      return;
    }
    const tool = parseOpenAIPart(functionToolSchema, inner, `tools[${i}].tools[${j}]`);
    found.push({
      namespace,
      name: tool.name,
      param: `tools[${i}].tools[${j}].name`,
      definition: {
        name: tool.name,
        ...(tool.description != null && { description: tool.description }),
        parameters: tool.parameters ?? { type: "object", properties: {} },
        ...(tool.strict != null && { strict: tool.strict }),
      },
    });
  });
  return found;
}

/**
 * `{type: "allowed_tools", mode, tools}` (ToolChoiceAllowed): the names of the function and custom tools it
 * allows and its mode; undefined for any other choice. A malformed one is a 400 naming the field, and
 * so is one naming a function or custom tool that `tools` does not give, as `{type: "function", name}`
 * is: left out, it would offer the model nothing, and a `required` call would become a plain answer.
 */
function allowedTools(
  choice: ResponsesRequestBody["tool_choice"],
  given: readonly ToolDefinition[],
  namespaced: ReadonlyMap<string, NamespacedTool>,
): { names: Set<string>; mode: "auto" | "required" } | undefined {
  if (choice == null || typeof choice === "string" || choice.type !== "allowed_tools") return undefined;
  const { mode, tools } = choice as { mode?: unknown; tools?: unknown };
  if (mode !== "auto" && mode !== "required") {
    throw new GatewayError("invalid_request", `Invalid value for 'tool_choice.mode': expected "auto" or "required".`, {
      param: "tool_choice.mode",
    });
  }
  if (!Array.isArray(tools)) {
    throw new GatewayError("invalid_request", "Invalid type for 'tool_choice.tools': expected an array of tools.", {
      param: "tool_choice.tools",
    });
  }
  const names = new Set<string>();
  // A namespace's tool may be named by its flat name (as the target is offered it) or its own.
  const known = new Set([...given.map((tool) => tool.name), ...[...namespaced.values()].map((tool) => tool.name)]);
  (tools as { type?: unknown; name?: unknown }[]).forEach((tool, i) => {
    if (tool?.type !== "function" && tool?.type !== "custom") return;
    if (typeof tool.name !== "string" || tool.name === "") {
      throw new GatewayError("invalid_request", `Missing required parameter: 'tool_choice.tools[${i}].name'.`, {
        param: `tool_choice.tools[${i}].name`,
        reason: "missing_required_parameter",
      });
    }
    if (!known.has(tool.name)) {
      throw new GatewayError(
        "invalid_request",
        `Invalid value for 'tool_choice.tools[${i}].name': no ${tool.type} tool named '${tool.name}' was given in tools.`,
        { param: `tool_choice.tools[${i}].name` },
      );
    }
    names.add(tool.name);
  });
  return { names, mode };
}

function toolChoice(
  choice: NonNullable<ResponsesRequestBody["tool_choice"]>,
  tools: readonly ToolDefinition[],
  servers: readonly HostedServer[],
  fileSearch: boolean,
): ToolChoice {
  if (choice === "required" && tools.length === 0 && servers.length === 0 && !fileSearch) {
    // A call required with nothing to call: a target could only ignore it or fail.
    throw new GatewayError(
      "invalid_request",
      "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
      { param: "tool_choice" },
    );
  }
  if (typeof choice === "string") return choice;
  if (choice.type === "file_search") {
    // ToolChoiceTypes: the model must search first (the loop offers it file_search under that name).
    if (!fileSearch) {
      throw new GatewayError("invalid_request", "Invalid value for 'tool_choice': no file_search tool was given in tools.", {
        param: "tool_choice.type",
      });
    }
    return { name: FILE_SEARCH_FUNCTION };
  }
  if (choice.type === "mcp") {
    // ToolChoiceMcp: a tool of one server (as the loop offers it to the model), or any tool.
    const { server_label, name } = choice as { server_label?: unknown; name?: unknown };
    if (typeof server_label !== "string" || !servers.some((server) => server.ref.label === server_label)) {
      throw new GatewayError(
        "invalid_request",
        "Invalid value for 'tool_choice.server_label': no MCP tool with this server_label was given in tools.",
        { param: "tool_choice.server_label" },
      );
    }
    return typeof name === "string" ? { name: hostedToolName(server_label, name) } : "required";
  }
  if (choice.type === "function" || choice.type === "custom") {
    // ToolChoiceFunction, or ToolChoiceCustom: a custom tool is offered as a function of its name.
    const name = (choice as { name?: unknown }).name;
    if (typeof name !== "string") {
      // The type is one tandem takes: what is wrong is its name, missing or not a string.
      throw new GatewayError(
        "invalid_request",
        name == null
          ? "Missing required parameter: 'tool_choice.name'."
          : `Invalid type for 'tool_choice.name': expected a string, but got ${typeName(name)} instead.`,
        { param: "tool_choice.name", reason: name == null ? "missing_required_parameter" : "invalid_type" },
      );
    }
    if (!tools.some((t) => t.name === name)) {
      throw new GatewayError(
        "invalid_request",
        `Invalid value for 'tool_choice.name': no ${choice.type} tool named '${name}' was given in tools.`,
        { param: "tool_choice.name" },
      );
    }
    return { name };
  }
  throw new GatewayError(
    "invalid_request",
    `Invalid value for 'tool_choice.type': '${choice.type}' is not supported by tandem; use "auto", "none", "required", {"type":"function","name":...}, {"type":"custom","name":...} or {"type":"allowed_tools",...}.`,
    { param: "tool_choice.type" },
  );
}

function echo(
  wire: ResponsesRequestBody,
  tools: Record<string, unknown>[],
  conversationId: string | undefined,
  metadata: Record<string, string>,
): ResponseEcho {
  const format = wire.text?.format ?? { type: "text" };
  return {
    background: wire.background === true,
    instructions: wire.instructions ?? null,
    max_output_tokens: wire.max_output_tokens ?? null,
    max_tool_calls: wire.max_tool_calls ?? null,
    metadata,
    parallel_tool_calls: wire.parallel_tool_calls ?? true,
    previous_response_id: wire.previous_response_id ?? null,
    conversation: conversationId === undefined ? null : { id: conversationId },
    prompt_cache_key: wire.prompt_cache_key ?? null,
    reasoning: { effort: wire.reasoning?.effort ?? null, summary: wire.reasoning?.summary ?? null },
    safety_identifier: wire.safety_identifier ?? null,
    service_tier: servedTier(wire.service_tier),
    store: wire.store !== false,
    temperature: wire.temperature ?? 1,
    text: { format: format as Record<string, unknown>, verbosity: wire.text?.verbosity ?? "medium" },
    tool_choice: wire.tool_choice ?? "auto",
    tools,
    top_logprobs: wire.top_logprobs ?? 0,
    top_p: wire.top_p ?? 1,
    truncation: wire.truncation ?? "disabled",
    user: wire.user ?? null,
  };
}

/**
 * The tier a Response reports: OpenAI reports "the processing mode actually used", not the one
 * asked for, so `auto` (and none) is `default`, as for a project that configured no other, and
 * `fast` is `priority`, as OpenAI shows it. Other tiers are reported as asked.
 */
function servedTier(asked: string | null | undefined): string {
  if (asked == null || asked === "auto") return "default";
  return asked === "fast" ? "priority" : asked;
}
