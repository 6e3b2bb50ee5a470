/**
 * A forced tool call cut off before it closed (worker/forced-tool-call.ts parseCutForcedCall): what
 * the grammar-bound JSON says so far, the tool as soon as its name fits one offered tool, the
 * arguments as written. On the engine and through the clients: engine.test.ts, test/e2e/local-forced-tools.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ToolDefinition } from "../../../src/core/index.js";
import { parseCutForcedCall } from "../../../src/providers/llamacpp/worker/forced-tool-call.js";

const weather: ToolDefinition = { name: "get_weather", parameters: { type: "object" } };
const time: ToolDefinition = { name: "get_time", parameters: { type: "object" } };
const wind: ToolDefinition = { name: "get_weather_wind", parameters: { type: "object" } };

describe("parseCutForcedCall", () => {
  it("gives the arguments as far as they were written, unterminated", () => {
    assert.deepEqual(parseCutForcedCall('{"name": "get_weather", "arguments": {"city": "Par', [weather, time]), {
      name: "get_weather",
      arguments: '{"city": "Par',
    });
    assert.deepEqual(parseCutForcedCall('{\n  "name": "get_time",\n  "arguments": {\n    "city": ', [weather, time]), {
      name: "get_time",
      arguments: '{\n    "city":',
    });
  });

  it("gives no arguments when the cut came before them", () => {
    for (const text of ['{"name": "get_weather"', '{"name": "get_weather", "argu', '{"name": "get_weather", "arguments": '])
      assert.deepEqual(parseCutForcedCall(text, [weather, time]), { name: "get_weather", arguments: "" }, text);
  });

  it("knows the tool once its name fits only one, and from the start when one is forced", () => {
    assert.deepEqual(parseCutForcedCall('{"name": "get_w', [weather, time]), { name: "get_weather", arguments: "" });
    assert.deepEqual(parseCutForcedCall("", [weather]), { name: "get_weather", arguments: "" });
    assert.deepEqual(parseCutForcedCall('{"na', [weather]), { name: "get_weather", arguments: "" });
    assert.equal(parseCutForcedCall('{"name": "get_', [weather, time]), undefined);
    assert.equal(parseCutForcedCall("{", [weather, time]), undefined);
    // A name that is a prefix of another is known once it closes.
    assert.equal(parseCutForcedCall('{"name": "get_weather', [weather, wind]), undefined);
    assert.deepEqual(parseCutForcedCall('{"name": "get_weather", ', [weather, wind]), { name: "get_weather", arguments: "" });
  });
});
