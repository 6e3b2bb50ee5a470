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

describe("a bad nested field", () => {
  it("is answered in OpenAI's words and codes, the field named in param", () => {
    const cases: Array<[Record<string, unknown>, string, string, RegExp]> = [
      [
        { tools: [{ type: "function", parameters: {} }] },
        "tools[0].name",
        "missing_required_parameter",
        /^Missing required parameter: 'tools\[0\]\.name'\.$/,
      ],
      [
        { tools: [{ type: "function", name: 5 }] },
        "tools[0].name",
        "invalid_type",
        /^Invalid type for 'tools\[0\]\.name': expected a string, but got an integer instead\.$/,
      ],
      [
        { tools: [{ type: "function", name: "f", strict: "yes" }] },
        "tools[0].strict",
        "invalid_type",
        /expected a boolean, but got a string instead/,
      ],
      [
        { tools: [{ type: "function", name: "f", description: 5 }] },
        "tools[0].description",
        "invalid_type",
        /expected a string, but got an integer/,
      ],
      [
        { tools: [{ type: "function", name: "" }] },
        "tools[0].name",
        "empty_string",
        /^Invalid 'tools\[0\]\.name': empty string\./,
      ],
      [
        { tools: [{ type: "namespace", name: "ns", tools: [{ type: "function" }] }] },
        "tools[0].tools[0].name",
        "missing_required_parameter",
        /^Missing required parameter/,
      ],
      [
        { tool_choice: { type: "function" } },
        "tool_choice.name",
        "missing_required_parameter",
        /^Missing required parameter: 'tool_choice\.name'\.$/,
      ],
      [
        { tool_choice: 5 },
        "tool_choice",
        "invalid_type",
        /^Invalid type for 'tool_choice': expected a string or an object, but got an integer instead\.$/,
      ],
      [
        { truncation: 1 },
        "truncation",
        "invalid_type",
        /^Invalid type for 'truncation': expected a string, but got an integer instead\.$/,
      ],
      [
        { max_output_tokens: 1e20 },
        "max_output_tokens",
        "integer_above_max_value",
        /^Invalid 'max_output_tokens': integer above maximum value\./,
      ],
      [{ previous_response_id: "" }, "previous_response_id", "empty_string", /^Invalid 'previous_response_id': empty string\./],
      [{ conversation: "" }, "conversation", "empty_string", /^Invalid 'conversation': empty string\./],
    ];
    for (const [body, param, code, message] of cases) {
      const found = refusal(body);
      assert.equal(found.param, param, JSON.stringify(body));
      assert.equal(found.code, code, `${JSON.stringify(body)}: ${found.message}`);
      assert.match(found.message, message);
      assert.doesNotMatch(found.message, /Invalid input|Invalid option|Too big|Too small|received/);
    }
  });

  it("keeps OpenAI's words for a value outside a closed set", () => {
    const found = refusal({ truncation: "sometimes" });
    assert.equal(found.code, "invalid_value");
    assert.match(found.message, /^Invalid value for 'truncation': 'sometimes'\. Supported values are: 'auto' and 'disabled'\.$/);
  });
});
