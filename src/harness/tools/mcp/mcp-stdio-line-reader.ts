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
 * throws StdioLineTooLong once for that line (the transport then ends the server), and drops the
 * rest of the line as it comes, so that one flood is one error, not one per `maxBytes` read.
 */
export class StdioLineReader {
  readonly #maxBytes: number;
  #chunks: Buffer[] = [];
  #bytes = 0;
  /** How many of the chunks (from the first) are known to hold no newline. */
  #searched = 0;
  /** A line went past the limit: what comes until its newline is dropped. */
  #dropping = false;
  /** The first line past the limit, once there was one: why the server was ended. */
  #tooLong: StdioLineTooLong | undefined;

  constructor(maxBytes: number = STDIO_DEFAULT_MAX_BUFFER_SIZE) {
    this.#maxBytes = maxBytes;
  }

  /** The error of the first line past the limit, if one was. */
  get tooLong(): StdioLineTooLong | undefined {
    return this.#tooLong;
  }

  append(chunk: Buffer): void {
    if (this.#dropping) {
      const newline = chunk.indexOf(10);
      if (newline === -1) return;
      this.#dropping = false;
      chunk = chunk.subarray(newline + 1);
      if (chunk.length === 0) return;
    }
    if (this.#bytes + chunk.length > this.#maxBytes) {
      const newline = chunk.indexOf(10);
      // The line ends in this chunk within the limit: what follows it is another line's.
      if (newline === -1 || this.#bytes + newline > this.#maxBytes) {
        this.clear();
        if (newline === -1) this.#dropping = true;
        else if (newline + 1 < chunk.length) this.#push(chunk.subarray(newline + 1));
        const error = new StdioLineTooLong(this.#maxBytes);
        this.#tooLong ??= error;
        throw error;
      }
    }
    this.#push(chunk);
  }

  #push(chunk: Buffer): void {
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

/** A stdio server wrote a line (one JSON-RPC message) longer than the reader's limit. */
export class StdioLineTooLong extends Error {
  override readonly name = "StdioLineTooLong";

  constructor(maxBytes: number) {
    const limit = maxBytes % 1048576 === 0 ? `${maxBytes / 1048576} MiB limit (${maxBytes} bytes)` : `limit of ${maxBytes} bytes`;
    super(`the server wrote a line over the ${limit} of a stdio message, so it was ended`);
  }
}

/**
 * Gives the transport a StdioLineReader in place of the SDK's ReadBuffer (a private field the SDK
 * reads on each chunk; test/harness/tools/mcp checks it is there to replace). Before it is started.
 * The reader is returned: its `tooLong` says why the server was ended, when a line was.
 */
export function readLinesLinearly(transport: StdioClientTransport): StdioLineReader {
  const fields = transport as unknown as { _readBuffer?: unknown };
  if (fields._readBuffer === undefined) throw new Error("the MCP SDK's stdio transport has no _readBuffer to replace");
  const reader = new StdioLineReader();
  fields._readBuffer = reader;
  return reader;
}
