import type { HostedCallContext, HostedToolInfo, HostedToolOutcome, McpServerRef, ToolHost } from "../../core/index.js";

/**
 * One ToolHost for the tool loop over several: tandem's built-in hosts (memory) by their label, and
 * the MCP host for every other server (configured ones, and those a request names by URL).
 */
export class ToolHostByLabel implements ToolHost {
  readonly #builtIn: ReadonlyMap<string, ToolHost>;
  readonly #mcp: ToolHost;

  constructor(builtIn: ReadonlyMap<string, ToolHost>, mcp: ToolHost) {
    this.#builtIn = builtIn;
    this.#mcp = mcp;
  }

  #hostOf(server: McpServerRef): ToolHost {
    return (server.url === undefined && this.#builtIn.get(server.label)) || this.#mcp;
  }

  listTools(server: McpServerRef, signal: AbortSignal): Promise<{ tools: HostedToolInfo[] } | { error: string }> {
    return this.#hostOf(server).listTools(server, signal);
  }

  callTool(
    server: McpServerRef,
    name: string,
    args: Record<string, unknown>,
    signal: AbortSignal,
    call?: HostedCallContext,
  ): Promise<HostedToolOutcome> {
    return this.#hostOf(server).callTool(server, name, args, signal, call);
  }

  configured(label: string): boolean {
    return this.#builtIn.has(label) || this.#mcp.configured(label);
  }
}
