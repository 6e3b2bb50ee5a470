/**
 * StdioLineReader: a stdio server's output cut into JSON-RPC messages in linear time, as the SDK's
 * ReadBuffer cuts it (same messages, same limit and error), which it replaces on the stdio transport.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { readLinesLinearly, StdioLineReader } from "../../../../src/harness/tools/mcp/mcp-stdio-line-reader.js";

const line = (id: number) => `${JSON.stringify({ jsonrpc: "2.0", id, result: {} })}\n`;

function readAll(reader: StdioLineReader): unknown[] {
  const messages: unknown[] = [];
  for (let message = reader.readMessage(); message !== null; message = reader.readMessage()) messages.push(message);
  return messages;
}

describe("StdioLineReader", () => {
  it("reads messages split across chunks, several in one chunk, and lines ended by CRLF", () => {
    const reader = new StdioLineReader();
    const text = line(1) + line(2).replace("\n", "\r\n") + line(3);
    const messages: unknown[] = [];
    // Every cut: one byte at a time.
    for (const byte of Buffer.from(text)) {
      reader.append(Buffer.from([byte]));
      messages.push(...readAll(reader));
    }
    assert.deepEqual(
      messages.map((m) => (m as { id: number }).id),
      [1, 2, 3],
    );
    reader.append(Buffer.from(line(4) + line(5) + line(6).slice(0, 10)));
    assert.deepEqual(
      readAll(reader).map((m) => (m as { id: number }).id),
      [4, 5],
    );
    reader.append(Buffer.from(line(6).slice(10)));
    assert.deepEqual(readAll(reader), [{ jsonrpc: "2.0", id: 6, result: {} }]);
  });

  it("throws for a line that is not a message, and reads on after it", () => {
    const reader = new StdioLineReader();
    reader.append(Buffer.from(`not json\n${line(7)}`));
    assert.throws(() => reader.readMessage());
    assert.deepEqual(reader.readMessage(), { jsonrpc: "2.0", id: 7, result: {} });
  });

  it("refuses a line past its limit once, saying so, drops the rest of it and reads the next line", () => {
    const reader = new StdioLineReader(1000);
    reader.append(Buffer.alloc(600, "x"));
    assert.equal(reader.readMessage(), null);
    const said = "the server wrote a line over the limit of 1000 bytes of a stdio message, so it was ended";
    assert.throws(() => reader.append(Buffer.alloc(600, "x")), { name: "StdioLineTooLong", message: said });
    assert.equal(reader.tooLong?.message, said);
    // The rest of that line, however long, is dropped without another error.
    for (let i = 0; i < 5; i++) reader.append(Buffer.alloc(600, "x"));
    reader.append(Buffer.from(`xxx\n${line(8)}`));
    assert.deepEqual(reader.readMessage(), { jsonrpc: "2.0", id: 8, result: {} });
    assert.equal(reader.readMessage(), null);
  });

  it("keeps a line that ends within the limit in the chunk that passes it, and refuses the next line past it", () => {
    const reader = new StdioLineReader(1000);
    reader.append(Buffer.from(`{"jsonrpc":"2.0","id":9,"result":{"pad":"${"y".repeat(900)}`));
    reader.append(Buffer.from(`"}}\n${"z".repeat(200)}`));
    assert.deepEqual((reader.readMessage() as { id: number }).id, 9);
    assert.throws(() => reader.append(Buffer.alloc(900, "z")), { name: "StdioLineTooLong" });
  });

  it("names the limit in MiB when it is whole MiB", () => {
    const reader = new StdioLineReader(10 * 1048576);
    assert.throws(() => reader.append(Buffer.alloc(10 * 1048576 + 1, "x")), {
      message: "the server wrote a line over the 10 MiB limit (10485760 bytes) of a stdio message, so it was ended",
    });
  });

  it("reads 10 MiB without a newline, 64 KiB at a time, in linear time", () => {
    const reader = new StdioLineReader();
    const chunk = Buffer.alloc(64 * 1024, "x");
    // CPU time, not wall time: a busy machine that leaves this process waiting does not make it slower.
    const started = process.cpuUsage();
    for (let i = 0; i < 160; i++) {
      reader.append(chunk);
      assert.equal(reader.readMessage(), null);
    }
    const used = process.cpuUsage(started);
    const ms = (used.user + used.system) / 1000;
    assert.ok(ms < 200, `${Math.round(ms)} ms of CPU`);
  });

  it("replaces the SDK's ReadBuffer on its stdio transport (a private field it reads)", () => {
    const transport = new StdioClientTransport({ command: "true" });
    readLinesLinearly(transport);
    assert.ok((transport as unknown as { _readBuffer: unknown })._readBuffer instanceof StdioLineReader);
  });
});
