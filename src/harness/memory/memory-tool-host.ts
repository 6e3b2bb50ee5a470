import type { HostedCallContext, HostedToolInfo, HostedToolOutcome, McpServerRef, ToolHost } from "../../core/index.js";
import { callRefused, GatewayError, MCP_CALL_CODES, MEMORY_TOOLS_LABEL } from "../../core/index.js";
import type { Memories } from "./memories.js";

export { MEMORY_TOOLS_LABEL };

const TOOLS: HostedToolInfo[] = [
  {
    name: "remember",
    description:
      "Save a lasting fact about the user for future conversations with any model: a preference, a detail of their " +
      "life or work they want remembered, or something they explicitly ask you to remember. Write it as one short " +
      "sentence in the third person ('The user is vegetarian'). Do not save passing details, secrets such as " +
      "passwords, or anything the user did not share themselves. Returns the memory's id.",
    inputSchema: {
      type: "object",
      properties: { text: { type: "string", description: "The fact, as one short sentence about the user." } },
      required: ["text"],
      additionalProperties: false,
    },
  },
  {
    name: "forget",
    description:
      "Forget a saved memory for good, by its id as shown in <user_memories> (mem_...), when the user asks you to " +
      "forget it or says it is no longer true.",
    inputSchema: {
      type: "object",
      properties: { id: { type: "string", description: "The memory's id, mem_..." } },
      required: ["id"],
      additionalProperties: false,
    },
  },
];

/**
 * tandem's memory as tools of the tool loop (beside MCP servers' tools), so any model that calls
 * tools can save and forget memories on a route with `memory: on`. A memory the model saves is at
 * least as sensitive as the conversation is known to be (a private conversation's memory stays
 * private), and is marked `source: model` in its metadata.
 */
export class MemoryToolHost implements ToolHost {
  readonly #memories: Memories;

  constructor(memories: Memories) {
    this.#memories = memories;
  }

  configured(label: string): boolean {
    return label === MEMORY_TOOLS_LABEL;
  }

  async listTools(_server: McpServerRef, _signal: AbortSignal): Promise<{ tools: HostedToolInfo[] }> {
    return { tools: TOOLS };
  }

  async callTool(
    _server: McpServerRef,
    name: string,
    args: Record<string, unknown>,
    signal: AbortSignal,
    call: HostedCallContext = {},
  ): Promise<HostedToolOutcome> {
    try {
      if (name === "remember") return await this.#remember(args.text, call, signal);
      if (name === "forget") return await this.#forget(args.id);
      return callRefused(
        `tandem's memory has no tool named '${name}'; it has remember and forget.`,
        MCP_CALL_CODES.invalidParams,
      );
    } catch (err) {
      signal.throwIfAborted();
      // A refusal the model can act on (too long, empty); anything else without detail (the server logs the store's).
      if (err instanceof GatewayError && err.code === "invalid_request") return toolError(err.message);
      return toolError("The memory store could not be used right now; the memory was not changed.");
    }
  }

  /**
   * Saves the fact. Its text is the conversation's, so it is embedded under the route's privacy as the
   * conversation is (redacted on a `redact` route, not sent to a cloud model on a `local-only` one),
   * not as a memory a client adds outside any route.
   */
  async #remember(text: unknown, call: HostedCallContext, signal: AbortSignal): Promise<HostedToolOutcome> {
    if (typeof text !== "string" || text.trim() === "") return toolError("remember needs `text`: the fact to remember.");
    const { sensitivity, route, floor } = call;
    const memory = await this.#memories.add(
      { text, metadata: { source: "model" }, ...(sensitivity !== undefined && { sensitivity }) },
      signal,
      { ...(route !== undefined && { route }), ...(floor !== undefined && { floor }) },
    );
    return { output: `Remembered as ${memory.id}.` };
  }

  async #forget(id: unknown): Promise<HostedToolOutcome> {
    if (typeof id !== "string" || id.trim() === "") return toolError("forget needs `id`: the memory's id (mem_...).");
    const forgotten = await this.#memories.delete(id.trim());
    return forgotten ? { output: `Forgot ${id.trim()}.` } : toolError(`No memory has the id '${id.trim()}'.`);
  }
}

/** The tool ran and failed (as an MCP tool result with `isError`): its text as the one content block. */
function toolError(text: string): HostedToolOutcome {
  return { error: text, failure: { kind: "tool", content: [{ type: "text", text }] } };
}
