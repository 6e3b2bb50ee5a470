import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Gateway } from "../../core/index.js";
import type { Memories } from "../memory/memories.js";
import { ASK_MODEL_DESCRIPTION, askModel, askModelInput, askModelOutput, type ModelAnswer } from "./ask-model-tool.js";
import { LIST_MODELS_DESCRIPTION, listModels, listModelsOutput, type TargetIsLocal } from "./list-models-tool.js";
import {
  FORGET_DESCRIPTION,
  forget,
  forgetInput,
  forgetOutput,
  REMEMBER_DESCRIPTION,
  remember,
  rememberInput,
  rememberOutput,
  SEARCH_MEMORIES_DESCRIPTION,
  searchMemories,
  searchMemoriesInput,
  searchMemoriesOutput,
} from "./memory-tools.js";
import { internalCauseOf } from "./tool-error.js";

export interface TandemMcpServerOptions {
  /** The gateway every dialect is given: ask_model's requests take the same path as any client's. */
  gateway: Gateway;
  /** The user's memories; without them the memory tools are not offered. */
  memories?: Memories;
  /** Marks list_models' entries local or cloud. Default: not said. */
  isLocal?: TargetIsLocal;
  /**
   * Whether a model ask_model reaches may run tools (a route's `tools`, or `memory: on` with its
   * remember/forget): then ask_model can change the user's environment and is not marked read-only.
   * Default true.
   */
  askModelRunsTools?: boolean;
  /** tandem's version, as the server's `serverInfo`. */
  version: string;
  /** Told what each ask_model call did (the server's request log and usage). */
  onAnswer?: (answer: ModelAnswer) => void;
  /**
   * Told the failure behind a tool's "Internal error in tandem (see the server log)" answer, which
   * the client is not shown (it may quote a path or an upstream's text): the server log writes it.
   */
  onInternalError?: (err: unknown, tool: string) => void;
}

/** Bounds the arguments a client may send a tool (the memory tools' metadata is the largest legitimate one). */
const MAX_TOOL_INPUT_ELEMENTS = 1000;

const INSTRUCTIONS =
  "tandem is the user's local AI gateway. list_models names the models it can reach (local ones keep data on " +
  "the user's machine); ask_model asks one of them. search_memories, remember and forget read and write what " +
  "the user wants every model to remember about them.";

/** tandem's MCP server and the names of the tools it offers. */
export interface TandemMcpServer {
  server: McpServer;
  tools: ReadonlySet<string>;
  /** What it declares (the handshake's capabilities; 2026-07-28's `server/discover` says the same). */
  capabilities: { tools: { listChanged: false } };
  /** Its instructions for the model, as the handshake and `server/discover` give them. */
  instructions: string;
  /** Its name and version (the handshake's serverInfo; each 2026-07-28 result's `_meta`). */
  serverInfo: { name: string; title: string; version: string };
}

/**
 * tandem as an MCP server: its models and the user's memories as tools any MCP client can call. One
 * is made per transport (per HTTP request in stateless mode); it holds no state of its own.
 */
export function createTandemMcpServer(options: TandemMcpServerOptions): TandemMcpServer {
  const serverInfo = { name: "tandem", title: "tandem", version: options.version };
  const mcp = new McpServer(serverInfo, { instructions: INSTRUCTIONS, maxToolInputElements: MAX_TOOL_INPUT_ELEMENTS });
  const tools = new Set<string>();
  const { onInternalError } = options;
  registerTools(options, (name, config, callback) => {
    tools.add(name);
    if (onInternalError === undefined) return mcp.registerTool(name, config, callback);
    const logged = (async (...args: Parameters<typeof callback>) => {
      const result = await (callback as (...a: Parameters<typeof callback>) => CallToolResult | Promise<CallToolResult>)(...args);
      const cause = internalCauseOf(result);
      if (cause !== undefined) onInternalError(cause, name);
      return result;
    }) as typeof callback;
    return mcp.registerTool(name, config, logged);
  });
  // The SDK declares `listChanged: true` with the first tool; this list never changes while a server
  // runs, and a stateless server has no stream to send the notification on.
  const capabilities = { tools: { listChanged: false as const } };
  mcp.server.registerCapabilities(capabilities);
  return { server: mcp, tools, capabilities, instructions: INSTRUCTIONS, serverInfo };
}

/** Registers tandem's tools, each through `registerTool` (McpServer's, noting the name). */
function registerTools(options: TandemMcpServerOptions, registerTool: McpServer["registerTool"]): void {
  const server = { registerTool };
  const { gateway, memories } = options;
  server.registerTool(
    "list_models",
    {
      title: "List tandem's models",
      description: LIST_MODELS_DESCRIPTION,
      inputSchema: {},
      outputSchema: listModelsOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () => listModels(gateway, options.isLocal),
  );
  server.registerTool(
    "ask_model",
    {
      title: "Ask a model through tandem",
      description: ASK_MODEL_DESCRIPTION,
      inputSchema: askModelInput,
      outputSchema: askModelOutput,
      // A client may run a read-only tool without asking the user: not when the model it asks can call tools that write.
      annotations: { readOnlyHint: options.askModelRunsTools === false, openWorldHint: true },
    },
    (args, extra) => askModel(gateway, args, extra.signal, options.onAnswer),
  );
  if (memories === undefined) return;
  server.registerTool(
    "search_memories",
    {
      title: "Search the user's memories",
      description: SEARCH_MEMORIES_DESCRIPTION,
      inputSchema: searchMemoriesInput,
      outputSchema: searchMemoriesOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args, extra) => searchMemories(memories, args, extra.signal),
  );
  server.registerTool(
    "remember",
    {
      title: "Remember a fact about the user",
      description: REMEMBER_DESCRIPTION,
      inputSchema: rememberInput,
      outputSchema: rememberOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    (args, extra) => remember(memories, args, extra.signal),
  );
  server.registerTool(
    "forget",
    {
      title: "Forget a memory",
      description: FORGET_DESCRIPTION,
      inputSchema: forgetInput,
      outputSchema: forgetOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    (args) => forget(memories, args),
  );
}
