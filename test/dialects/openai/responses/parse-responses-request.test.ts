/**
 * parseResponsesRequest, on what a client may get wrong or leave for another target: a 400 in
 * OpenAI's words naming the field, or the field echoed as the request gave it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayError } from "../../../../src/core/index.js";
import { parseResponsesRequest } from "../../../../src/dialects/openai/responses/parse-responses-request.js";

const weather = { type: "function", name: "get_weather", parameters: {} };

/** The 400 a body gets: its message, param and code (GatewayError.reason). */
function refusal(body: Record<string, unknown>): { message: string; param: string | undefined; code: string | undefined } {
  try {
    parseResponsesRequest({ model: "chat/m1", input: "hi", ...body });
  } catch (err) {
    assert.ok(err instanceof GatewayError, String(err));
    assert.equal(err.code, "invalid_request");
    return { message: err.message, param: err.param, code: err.reason };
  }
  assert.fail(`accepted: ${JSON.stringify(body)}`);
}

describe("tool_choice allowed_tools", () => {
  it("naming a tool that tools does not give is a 400 naming it, as {type: function, name} is", () => {
    for (const mode of ["auto", "required"]) {
      const found = refusal({
        tools: [weather],
        tool_choice: {
          type: "allowed_tools",
          mode,
          tools: [
            { type: "function", name: "get_weather" },
            { type: "function", name: "nope" },
          ],
        },
      });
      assert.equal(found.param, "tool_choice.tools[1].name");
      assert.match(found.message, /^Invalid value for 'tool_choice\.tools\[1\]\.name': no function tool named 'nope'/);
    }
    assert.equal(
      refusal({
        tools: [weather],
        tool_choice: { type: "allowed_tools", mode: "auto", tools: [{ type: "custom", name: "nope" }] },
      }).param,
      "tool_choice.tools[0].name",
    );
  });

  it("naming given tools keeps them and the mode", () => {
    const parsed = parseResponsesRequest({
      model: "chat/m1",
      input: "hi",
      tools: [weather, { type: "function", name: "other", parameters: {} }],
      tool_choice: { type: "allowed_tools", mode: "required", tools: [{ type: "function", name: "get_weather" }] },
    });
    assert.deepEqual(
      parsed.chat.tools?.map((tool) => tool.name),
      ["get_weather"],
    );
    assert.equal(parsed.chat.toolChoice, "required");
  });
});

describe("hosted tools for a target on another wire", () => {
  it("are left out of what the model is offered and named, but echoed in tools as the request gave them", () => {
    const search = { type: "web_search", search_context_size: "low" };
    const parsed = parseResponsesRequest({
      model: "chat/m1",
      input: "hi",
      tools: [search, weather, { type: "code_interpreter", container: { type: "auto" } }],
    });
    assert.deepEqual(
      parsed.chat.tools?.map((tool) => tool.name),
      ["get_weather"],
    );
    assert.deepEqual(
      parsed.echo.tools.map((tool) => tool.type),
      ["web_search", "function", "code_interpreter"],
    );
    assert.deepEqual(parsed.echo.tools[0], search);
    assert.match(parsed.warnings.header() ?? "", /web_search/);
  });
});
