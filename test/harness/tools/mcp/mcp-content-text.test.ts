/** MCP tool results as the text a model reads: each content part's rendering and the UTF-8-safe cap. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { capUtf8, contentPartText, toolResultText } from "../../../../src/harness/tools/mcp/index.js";

describe("toolResultText", () => {
  it("joins text parts with newlines and names what is not text", () => {
    assert.equal(
      toolResultText({
        content: [
          { type: "text", text: "one" },
          { type: "text", text: "two" },
          { type: "audio", data: Buffer.alloc(10).toString("base64"), mimeType: "audio/wav" },
          { type: "resource", resource: { uri: "mem://blob", blob: "AAAA", mimeType: "application/octet-stream" } },
          { type: "resource_link", uri: "https://example.com/doc", name: "doc" },
          { type: "hologram" },
        ],
      }),
      "one\ntwo\n[audio audio/wav, 10 bytes]\n[resource mem://blob]\nhttps://example.com/doc\n[hologram content]",
    );
  });

  it("gives structuredContent as JSON only when there is no content", () => {
    assert.equal(toolResultText({ content: [], structuredContent: { a: 1 } }), '{"a":1}');
    assert.equal(toolResultText({ content: [{ type: "text", text: "x" }], structuredContent: { a: 1 } }), "x");
    assert.equal(toolResultText({ toolResult: { legacy: true } }), '{"legacy":true}');
    assert.equal(toolResultText({}), "");
  });

  it("reads an image part's size from its base64 without decoding it", () => {
    assert.equal(
      contentPartText({ type: "image", data: Buffer.alloc(1234).toString("base64"), mimeType: "image/png" }),
      "[image image/png, 1234 bytes]",
    );
  });
});

describe("capUtf8", () => {
  it("leaves text within the limit alone", () => {
    assert.equal(capUtf8("héllo", 6), "héllo");
  });

  it("cuts on a character boundary and says how much was cut", () => {
    assert.equal(capUtf8("aé€😀", 4), "aé\n[output cut: 7 of 10 bytes left out (mcp.maxOutputBytes)]");
    assert.equal(capUtf8("😀😀", 5), "😀\n[output cut: 4 of 8 bytes left out (mcp.maxOutputBytes)]");
  });
});
