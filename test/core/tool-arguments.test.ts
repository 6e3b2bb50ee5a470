import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { argumentsObject, type ChatRequest, RAW_ARGUMENTS_KEY, unsentCallArguments } from "../../src/core/index.js";

const withCalls = (...args: string[]): ChatRequest => ({
  model: "m",
  stream: false,
  messages: [
    { role: "user", content: [{ type: "text", text: "go" }] },
    { role: "assistant", content: [], toolCalls: args.map((a, i) => ({ id: `call_${i}`, name: "f", arguments: a })) },
  ],
});

describe("a history call's arguments, for a wire whose call input is an object", () => {
  it("an object as it is, no arguments as {}, anything else as its text in an object", () => {
    assert.deepEqual(argumentsObject('{"x":1}'), { x: 1 });
    assert.deepEqual(argumentsObject(""), {});
    assert.deepEqual(argumentsObject("  "), {});
    assert.deepEqual(argumentsObject('{"x":"trunc'), { [RAW_ARGUMENTS_KEY]: '{"x":"trunc' });
    assert.deepEqual(argumentsObject("[1]"), { [RAW_ARGUMENTS_KEY]: "[1]" });
    assert.deepEqual(argumentsObject("null"), { [RAW_ARGUMENTS_KEY]: "null" });
  });

  it("names each call whose arguments go as their text, and no other", () => {
    assert.deepEqual(unsentCallArguments(withCalls('{"x":1}', "", '{"x":"trunc', "7")), [
      'arguments of call call_2 as written (not a JSON object: their text sent as {"_raw_arguments": "..."} instead)',
      'arguments of call call_3 as written (not a JSON object: their text sent as {"_raw_arguments": "..."} instead)',
    ]);
    assert.deepEqual(unsentCallArguments(withCalls('{"x":1}')), []);
  });
});
