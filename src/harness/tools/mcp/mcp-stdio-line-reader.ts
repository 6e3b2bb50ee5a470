import type { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { deserializeMessage, STDIO_DEFAULT_MAX_BUFFER_SIZE } from "@modelcontextprotocol/sdk/shared/stdio.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

/**
 * A stdio server's output cut into JSON-RPC messages, one a line, at a cost linear in the bytes read.
 * The SDK's ReadBuffer joins each chunk to all it holds and searches the whole for a newline again,
 * so a line that does not end (a confined, perhaps prompt-injected, server writing megabytes without
 * a newline) costs time quadratic in its length: reading 10 MiB held tandem's event loop for seconds.
 * Here the chunks are kept in a list and only the bytes not yet searched are searched; they are
 * joined once, when the line ends. The limit is the SDK's: past `maxBytes` without a newline, it
 * throws its error (the transport then ends the server).
 */
export class StdioLineReader {
  readonly #maxBytes: number;
  #chunks: Buffer[] = [];
  #bytes = 0;
  /** How many of the chunks (from the first) are known to hold no newline. */
  #searched = 0;

  constructor(maxBytes: number = STDIO_DEFAULT_MAX_BUFFER_SIZE) {
    this.#maxBytes = maxBytes;
  }

  append(chunk: Buffer): void {
    if (this.#bytes + chunk.length > this.#maxBytes) {
      this.clear();
      throw new Error(`ReadBuffer exceeded maximum size of ${this.#maxBytes} bytes`);
    }
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
  }

  /** The next whole message, or null until its line ends. Throws for a line that is not a JSON-RPC message (it is consumed). */
  readMessage(): JSONRPCMessage | null {
    for (let i = this.#searched; i < this.#chunks.length; i++) {
      const chunk = this.#chunks[i] as Buffer;
      const newline = chunk.indexOf(10);
      if (newline === -1) {
        this.#searched = i + 1;
        continue;
      }
      const line = Buffer.concat([...this.#chunks.slice(0, i), chunk.subarray(0, newline)]);
      const rest = chunk.subarray(newline + 1);
      this.#chunks = rest.length > 0 ? [rest, ...this.#chunks.slice(i + 1)] : this.#chunks.slice(i + 1);
      this.#bytes -= line.length + 1;
      // The rest of the chunk is not yet searched (it follows the newline just found).
      this.#searched = 0;
      return deserializeMessage(line.toString("utf8").replace(/\r$/, ""));
    }
    return null;
  }

  clear(): void {
    this.#chunks = [];
    this.#bytes = 0;
    this.#searched = 0;
  }
}

/**
 * Gives the transport a StdioLineReader in place of the SDK's ReadBuffer (a private field the SDK
 * reads on each chunk; test/harness/tools/mcp checks it is there to replace). Before it is started.
 */
export function readLinesLinearly(transport: StdioClientTransport): void {
  const fields = transport as unknown as { _readBuffer?: unknown };
  if (fields._readBuffer === undefined) throw new Error("the MCP SDK's stdio transport has no _readBuffer to replace");
  fields._readBuffer = new StdioLineReader();
}
