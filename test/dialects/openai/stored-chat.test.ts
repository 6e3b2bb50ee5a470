/**
 * The pieces of the stored chat completions routes on their own: the list query as the openai SDK
 * sends it (and what it must refuse), and a stored message as OpenAI lists it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StateApiError } from "../../../src/dialects/openai/state/index.js";
import { parseChatListQuery } from "../../../src/dialects/openai/stored-chat/parse-chat-list-query.js";
import { renderStoredChatMessage } from "../../../src/dialects/openai/stored-chat/render-stored-chat.js";

describe("parseChatListQuery", () => {
  it("reads OpenAI's defaults, the model and metadata[key]=value filters", () => {
    assert.deepEqual(parseChatListQuery({}), { limit: 20, order: "asc" });
    assert.deepEqual(
      parseChatListQuery({
        model: "auto",
        "metadata[run]": "7",
        "metadata[a]b]": "x",
        after: "chatcmpl-1",
        limit: "5",
        order: "desc",
      }),
      { after: "chatcmpl-1", limit: 5, order: "desc", model: "auto", metadata: { run: "7", "a]b": "x" } },
    );
  });

  it("refuses what OpenAI refuses, naming the field", () => {
    const refused = (query: Record<string, unknown>, param: string) =>
      assert.throws(
        () => parseChatListQuery(query),
        (err: unknown) => err instanceof StateApiError && err.status === 400 && err.param === param,
      );
    refused({ metadata: "x" }, "metadata");
    refused({ "metadata[k]": ["a", "b"] }, "metadata[k]");
    refused(Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`metadata[k${i}]`, "v"])), "metadata");
    refused({ "metadata[k]": "v".repeat(513) }, "metadata.k");
    refused({ model: ["a", "b"] }, "model");
    refused({ limit: "0" }, "limit");
    refused({ limit: "101" }, "limit");
    refused({ order: "sideways" }, "order");
  });
});

describe("renderStoredChatMessage", () => {
  it("gives string content as it was, with null refusal, content_parts and name", () => {
    assert.deepEqual(renderStoredChatMessage("chatcmpl-x", { index: 2, message: { role: "user", content: "hi" } }), {
      id: "chatcmpl-x-2",
      role: "user",
      content: "hi",
      refusal: null,
      name: null,
      content_parts: null,
    });
  });

  it("joins an array's text parts as content and keeps its text and image_url parts", () => {
    const image = { type: "image_url", image_url: { url: "https://example.test/a.png", detail: "low" } };
    const rendered = renderStoredChatMessage("chatcmpl-x", {
      index: 0,
      message: {
        role: "user",
        name: "ann",
        content: [
          { type: "text", text: "one" },
          image,
          { type: "file", file: { file_id: "file-1" } },
          { type: "text", text: "two" },
        ],
      },
    });
    assert.deepEqual(rendered, {
      id: "chatcmpl-x-0",
      role: "user",
      name: "ann",
      content: "one\ntwo",
      refusal: null,
      content_parts: [{ type: "text", text: "one" }, image, { type: "text", text: "two" }],
    });
    const onlyImage = renderStoredChatMessage("chatcmpl-x", { index: 1, message: { role: "user", content: [image] } });
    assert.equal(onlyImage.content, null);
    assert.deepEqual(onlyImage.content_parts, [image]);
  });

  it("keeps an assistant message's refusal, which ChatCompletionMessage requires (null when it had none)", () => {
    const refused = renderStoredChatMessage("chatcmpl-x", {
      index: 1,
      message: { role: "assistant", content: null, refusal: "I can't help with that." },
    });
    assert.equal(refused.refusal, "I can't help with that.");
    assert.equal(refused.content, null);
  });

  it("keeps an assistant's tool calls and a tool result's call id", () => {
    const calls = [{ id: "call_1", type: "function", function: { name: "f", arguments: "{}" } }];
    const assistant = renderStoredChatMessage("c", {
      index: 1,
      message: { role: "assistant", content: null, tool_calls: calls },
    });
    assert.equal(assistant.content, null);
    assert.deepEqual(assistant.tool_calls, calls);
    const tool = renderStoredChatMessage("c", { index: 2, message: { role: "tool", tool_call_id: "call_1", content: "ok" } });
    assert.equal(tool.tool_call_id, "call_1");
    assert.equal(tool.id, "c-2");
  });
});
