/**
 * How the console's State view reads an item or a chat message as text: messages' text parts,
 * tool calls and their outputs, reasoning summaries, everything else as JSON, long texts cut.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chatMessageText, ITEM_TEXT_CHARS, itemText } from "../../web/src/item-text.js";

describe("itemText", () => {
  it("reads a message's text parts, marking images and files", () => {
    const shown = itemText({
      id: "msg_1",
      type: "message",
      role: "user",
      content: [
        { type: "input_text", text: "look at this" },
        { type: "input_image", image_url: "data:image/png;base64,AAAA" },
        { type: "input_file", filename: "notes.pdf", file_data: "JVBERi0=" },
      ],
    });
    assert.deepEqual(shown, { type: "message", label: "user", text: "look at this\n\n[image]\n\n[file: notes.pdf]" });
    assert.ok(!shown.text.includes("base64"), "no data URL");
    assert.equal(itemText({ type: "message", role: "assistant", content: "plain" }).text, "plain");
  });

  it("reads tool calls, their outputs and reasoning summaries", () => {
    assert.deepEqual(itemText({ type: "function_call", call_id: "c1", name: "weather", arguments: '{"city":"Oslo"}' }), {
      type: "function_call",
      label: "tool call: weather",
      text: '{"city":"Oslo"}',
    });
    assert.equal(itemText({ type: "function_call_output", call_id: "c1", output: "12 °C" }).label, "tool output (c1)");
    assert.equal(itemText({ type: "function_call_output", call_id: "c1", output: "12 °C" }).text, "12 °C");
    assert.equal(
      itemText({
        type: "reasoning",
        summary: [
          { type: "summary_text", text: "thought a" },
          { type: "summary_text", text: "b" },
        ],
      }).text,
      "thought a\n\nb",
    );
    assert.equal(itemText({ type: "reasoning", summary: [], encrypted_content: "opaque" }).text, "(no summary kept)");
    assert.equal(
      itemText({ type: "mcp_call", server_label: "fs", name: "read", arguments: "{}", output: "contents" }).text,
      "{}\n→ contents",
    );
    const failed = (error: unknown) =>
      itemText({ type: "mcp_call", server_label: "fs", name: "read", arguments: "{}", output: null, error }).text;
    assert.equal(
      failed({ type: "mcp_protocol_error", code: -32001, message: "timed out" }),
      "{}\n→ [MCP protocol error -32001] timed out",
    );
    assert.equal(failed({ type: "http_error", code: 502, message: "HTTP 502" }), "{}\n→ [HTTP error 502] HTTP 502");
    assert.equal(
      failed({ type: "mcp_tool_execution_error", content: [{ type: "text", text: "page is locked" }] }),
      "{}\n→ [tool error] page is locked",
    );
  });

  it("shows any other item as its JSON, and cuts a long text saying so", () => {
    const other = itemText({ id: "ws_1", type: "web_search_call", status: "completed" });
    assert.equal(other.label, "web_search_call");
    assert.deepEqual(JSON.parse(other.text), { status: "completed" });
    const long = itemText({ type: "function_call_output", call_id: "c", output: "x".repeat(ITEM_TEXT_CHARS + 10) }).text;
    assert.ok(long.length < ITEM_TEXT_CHARS + 60);
    assert.match(long, /cut: 20010 characters in all/);
  });
});

describe("chatMessageText", () => {
  it("reads a chat message's content, refusal and tool calls", () => {
    assert.deepEqual(
      chatMessageText({
        role: "assistant",
        content: null,
        tool_calls: [{ type: "function", function: { name: "weather", arguments: '{"city":"Oslo"}' } }],
      }),
      { type: "message", label: "assistant", text: 'tool call: weather({"city":"Oslo"})' },
    );
    assert.deepEqual(chatMessageText({ role: "tool", tool_call_id: "c9", content: "12 °C" }), {
      type: "function_call_output",
      label: "tool output (c9)",
      text: "12 °C",
    });
    assert.equal(chatMessageText({ role: "user", content: [{ type: "text", text: "hi" }] }).text, "hi");
  });
});
