/**
 * RefusedSettings and the wire readers on their own: which 400s are refusals of a setting, how a body
 * does without one, what is remembered, and the bounds (a request is sent at most four more times; a
 * field is fixed once per request; a refusal tandem cannot fix is the answer).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { GatewayError } from "../../../src/core/index.js";
import { anthropicEffortInstead, readAnthropicRefusal } from "../../../src/providers/anthropic/refused-anthropic-settings.js";
import {
  capLimit,
  capList,
  hashLongIdentifier,
  leaveOut,
  limitInRefusal,
  maxLengthInRefusal,
  maxStringLengthInRefusal,
  minimumInRefusal,
  RefusedSettings,
  rename,
} from "../../../src/providers/http/refused-settings.js";
import { readOllamaRefusal } from "../../../src/providers/ollama/refused-ollama-settings.js";
import {
  effortInstead,
  readOpenAIRefusal,
  refusedChatSettings,
  refusesToolsWithEffort,
} from "../../../src/providers/openai/refused-openai-settings.js";

const refusal = (param: string | undefined, message: string) =>
  new GatewayError("invalid_request", message, { status: 400, ...(param !== undefined && { param }) });

/** A sender that refuses, for each body it is given, the first field of `refuses` the body holds. */
function upstream(
  refuses: string[],
  error = (field: string) => refusal(field, `Unsupported parameter: '${field}' is not supported with this model.`),
) {
  const seen: Record<string, unknown>[] = [];
  return {
    seen,
    send: (body: Record<string, unknown>) => async () => {
      seen.push({ ...body });
      const field = refuses.find((f) => f in body);
      if (field !== undefined) throw error(field);
      return "answer";
    },
  };
}

describe("readOpenAIRefusal", () => {
  it("reads OpenAI's unsupported parameter and value errors by their param", () => {
    assert.deepEqual(
      readOpenAIRefusal(
        refusal("reasoning_effort", "Unsupported parameter: 'reasoning_effort' is not supported with this model."),
      )?.field,
      "reasoning_effort",
    );
    assert.equal(
      readOpenAIRefusal(
        refusal(
          "temperature",
          "Unsupported value: 'temperature' does not support 0.2 with this model. Only the default (1) value is supported.",
        ),
      )?.field,
      "temperature",
    );
  });

  it("reads Azure's, older models', Groq's and FastAPI servers' unknown argument from the message", () => {
    assert.equal(
      readOpenAIRefusal(refusal(undefined, "Unrecognized request argument supplied: reasoning_effort"))?.field,
      "reasoning_effort",
    );
    assert.equal(
      readOpenAIRefusal(refusal(undefined, "property 'safety_identifier' is unsupported, did you mean 'user'?"))?.field,
      "safety_identifier",
    );
    assert.equal(readOpenAIRefusal(refusal(undefined, "stop: Extra inputs are not permitted"))?.field, "stop");
    assert.equal(
      readOpenAIRefusal(refusal(undefined, "messages.0.role: Input should be 'user'; seed: Extra inputs are not permitted"))
        ?.field,
      "seed",
    );
  });

  it("is not fooled by other 400s, or by refusals that are not a 400's", () => {
    assert.equal(readOpenAIRefusal(refusal("messages[0].content", "Invalid 'messages[0].content': string too long.")), undefined);
    assert.equal(readOpenAIRefusal(refusal(undefined, "We could not parse the JSON body of your request.")), undefined);
    assert.equal(
      readOpenAIRefusal(new GatewayError("rate_limited", "Unsupported parameter: 'x' is not supported", { param: "x" })),
      undefined,
    );
  });
});

describe("readAnthropicRefusal", () => {
  it("reads 'temperature and top_p cannot both be specified' as top_p", () => {
    const message = "`temperature` and `top_p` cannot both be specified for this model. Please use only one.";
    assert.equal(readAnthropicRefusal(refusal(undefined, message))?.field, "top_p");
  });

  it("reads an output limit above the model's as max_tokens", () => {
    assert.equal(
      readAnthropicRefusal(
        refusal(
          undefined,
          "max_tokens: 100000 > 64000, which is the maximum allowed number of output tokens for claude-sonnet-4-5",
        ),
      )?.field,
      "max_tokens",
    );
  });

  it("reads a model without thinking, and one that thinks adaptively only", () => {
    assert.equal(
      readAnthropicRefusal(refusal(undefined, "'claude-3-5-haiku-20241022' does not support thinking."))?.field,
      "thinking",
    );
    assert.equal(
      readAnthropicRefusal(
        refusal(
          undefined,
          '"thinking.type.enabled" is not supported for this model. Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.',
        ),
      )?.field,
      "thinking.type",
    );
  });

  it("reads an effort level the model does not take, in Anthropic's words and in GitHub Copilot's", () => {
    const anthropicWords =
      "output_config.effort 'xhigh' is not supported when thinking is disabled on this model. Use effort 'high' or below, or enable thinking.";
    const copilotWords = 'output_config.effort "high" is not supported by model claude-opus-4.7; supported values: [medium]';
    assert.equal(readAnthropicRefusal(refusal(undefined, anthropicWords))?.field, "output_config.effort");
    assert.equal(readAnthropicRefusal(refusal(undefined, copilotWords))?.field, "output_config.effort");
    assert.equal(anthropicEffortInstead("xhigh", anthropicWords), "high");
    assert.equal(anthropicEffortInstead("max", anthropicWords), "high");
    assert.equal(anthropicEffortInstead("high", copilotWords), "medium");
    assert.equal(anthropicEffortInstead("low", "supported values: [medium, high]"), "medium");
    assert.equal(anthropicEffortInstead("max", "supported values: ['low', 'high']"), "high");
    // No list and no ceiling: the next level down; none below the least.
    assert.equal(anthropicEffortInstead("high", "output_config.effort 'high' is not supported"), "medium");
    assert.equal(anthropicEffortInstead("low", "output_config.effort 'low' is not supported"), undefined);
  });

  it("does not read other invalid requests", () => {
    assert.equal(readAnthropicRefusal(refusal(undefined, "messages: at least one message is required")), undefined);
    assert.equal(readAnthropicRefusal(refusal(undefined, "max_tokens: Field required")), undefined);
  });
});

describe("readOllamaRefusal", () => {
  it("reads Ollama's 'does not support thinking' as think, and nothing else", () => {
    assert.equal(readOllamaRefusal(refusal(undefined, '"llama3.2:latest" does not support thinking'))?.field, "think");
    assert.equal(readOllamaRefusal(refusal(undefined, '"llama3.2:latest" does not support tools')), undefined);
  });
});

describe("limitInRefusal", () => {
  it("reads the model's output limit from OpenAI's, compatible servers' and Anthropic's words", () => {
    assert.equal(
      limitInRefusal(
        "max_tokens is too large: 32000. This model supports at most 16384 completion tokens, whereas you provided 32000.",
      ),
      16384,
    );
    assert.equal(
      limitInRefusal(
        "The parameter `max_completion_tokens` specified in the request are not valid: integer above maximum value, expected a value <= 12288, but got 32000 instead.",
      ),
      12288,
    );
    assert.equal(
      limitInRefusal("max_tokens: 100000 > 64000, which is the maximum allowed number of output tokens for claude-sonnet-4-5"),
      64000,
    );
    assert.equal(
      limitInRefusal(
        "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
      ),
      undefined,
    );
  });
});

describe("capLimit", () => {
  const below = {
    field: "max_output_tokens",
    message: "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got 1 instead.",
  };
  const above = {
    field: "max_tokens",
    message: "max_tokens is too large: 32000. This model supports at most 16384 completion tokens, whereas you provided 32000.",
  };

  it("raises a limit below the model's minimum and lowers one above its maximum, naming what was sent", () => {
    assert.equal(minimumInRefusal(below.message), 16);
    const low: Record<string, unknown> = { max_output_tokens: 1 };
    assert.equal(capLimit("max_output_tokens")(low, below), "max_output_tokens 1 (16 sent instead)");
    assert.equal(low.max_output_tokens, 16);
    const high: Record<string, unknown> = { max_tokens: 32000 };
    assert.equal(capLimit("max_tokens")(high, above), "max_tokens 32000 (16384 sent instead)");
    assert.equal(high.max_tokens, 16384);
  });

  it("leaves a limit within the bounds as it is, and falls back when the refusal states none", () => {
    const within: Record<string, unknown> = { max_tokens: 100 };
    assert.equal(capLimit("max_tokens")(within, above), "");
    assert.equal(within.max_tokens, 100);
    const unsupported = { field: "max_tokens", message: "Unsupported parameter: 'max_tokens' is not supported with this model." };
    assert.equal(capLimit("max_tokens")({ max_tokens: 5 }, unsupported), false);
    const renamed: Record<string, unknown> = { max_tokens: 5 };
    assert.equal(capLimit("max_tokens", rename("max_tokens", "max_completion_tokens"))(renamed, unsupported), "");
    assert.deepEqual(renamed, { max_completion_tokens: 5 });
  });
});

describe("capList", () => {
  /** OpenAI's words for a `stop` list over its 4 (as quoted in continuedev/continue#1572). */
  const tooLong = {
    field: "stop",
    message: "Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with length 5 instead.",
  };

  it("is read as a refusal of stop by OpenAI's reader", () => {
    const error = refusal("stop", tooLong.message);
    assert.deepEqual(readOpenAIRefusal(error), tooLong);
    assert.equal(maxLengthInRefusal(tooLong.message), 4);
  });

  it("keeps the first entries the refusal allows, naming how many were left out; a list within it goes as it is", () => {
    const body: Record<string, unknown> = { stop: ["a", "b", "c", "d", "e"] };
    assert.equal(capList("stop", "stop sequences")(body, tooLong), "stop sequences after the first 4 (1 of 5)");
    assert.deepEqual(body.stop, ["a", "b", "c", "d"]);
    const within: Record<string, unknown> = { stop: ["a"] };
    assert.equal(capList("stop", "stop sequences")(within, tooLong), "");
    assert.deepEqual(within.stop, ["a"]);
  });

  it("falls back when the refusal states no bound, and refuses what the body does not hold", () => {
    const extra = { field: "stop", message: "stop: Extra inputs are not permitted" };
    const body: Record<string, unknown> = { stop: ["a"] };
    assert.equal(capList("stop", "stop sequences", leaveOut("stop"))(body, extra), "stop");
    assert.equal("stop" in body, false);
    assert.equal(capList("stop", "stop sequences")({}, tooLong), false);
  });
});

describe("hashLongIdentifier", () => {
  /** OpenAI's words for a `user` over its 64 characters. */
  const tooLong = (max = 64) => ({
    field: "user",
    message: `Invalid 'user': string too long. Expected a string with maximum length ${max}, but got a string with length 150 instead.`,
  });
  const long = "x".repeat(150);

  it("is read as a refusal of user by OpenAI's reader", () => {
    assert.deepEqual(readOpenAIRefusal(refusal("user", tooLong().message)), tooLong());
    assert.equal(maxStringLengthInRefusal(tooLong().message), 64);
  });

  it("sends a value over the bound as its SHA-256 in hex, named; one within it goes as it is", () => {
    const body: Record<string, unknown> = { user: long };
    assert.equal(hashLongIdentifier("user")(body, tooLong()), "user (its SHA-256 sent instead)");
    assert.equal(body.user, createHash("sha256").update(long).digest("hex"));
    const within: Record<string, unknown> = { user: "user_42" };
    assert.equal(hashLongIdentifier("user")(within, tooLong()), "");
    assert.equal(within.user, "user_42");
  });

  it("leaves the value out under a bound no SHA-256 fits, and falls back when the refusal states none", () => {
    const body: Record<string, unknown> = { user: long };
    assert.equal(hashLongIdentifier("user")(body, tooLong(32)), "user");
    assert.equal("user" in body, false);
    const unsupported = { field: "user", message: "Unsupported parameter: 'user' is not supported with this model." };
    const other: Record<string, unknown> = { user: "u" };
    assert.equal(hashLongIdentifier("user", leaveOut("user"))(other, unsupported), "user");
    assert.equal("user" in other, false);
    assert.equal(hashLongIdentifier("user")({}, tooLong()), false);
  });
});

describe("effortInstead", () => {
  const listed = (values: string) => ({
    field: "reasoning_effort",
    message: `Unsupported value: 'reasoning_effort' does not support 'x' with this model. Supported values are: ${values}.`,
  });

  it("keeps a level the model lists, and otherwise takes the nearest, the higher on a tie, never none", () => {
    assert.equal(effortInstead("high", listed("'low', 'medium', and 'high'")), "high");
    assert.equal(effortInstead("minimal", listed("'none', 'low', 'medium', and 'high'")), "low");
    assert.equal(effortInstead("xhigh", listed("'low', 'medium', and 'high'")), "high");
    assert.equal(effortInstead("medium", listed("'low' and 'high'")), "high");
    assert.equal(effortInstead("minimal", listed("'none'")), undefined);
  });

  it("is undefined when the refusal lists nothing", () => {
    assert.equal(
      effortInstead("low", {
        field: "reasoning_effort",
        message: "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
      }),
      undefined,
    );
  });
});

describe("RefusedSettings", () => {
  it("sends again without each refused field, reports them once the answer comes, and remembers them for the model", async () => {
    const settings = refusedChatSettings();
    const up = upstream(["reasoning_effort", "temperature"]);
    const body = { model: "m", messages: [], reasoning_effort: "low", temperature: 0.2, top_p: 0.5 };
    const told: string[][] = [];
    assert.equal(await settings.send("m", body, (f) => told.push([...f]), up.send(body)), "answer");
    assert.equal(up.seen.length, 3);
    assert.deepEqual(up.seen[2], { model: "m", messages: [], top_p: 0.5 });
    assert.deepEqual(told, [["reasoning_effort", "temperature"]]);

    const next = { model: "m", messages: [], temperature: 0.9 };
    const up2 = upstream(["reasoning_effort", "temperature"]);
    await settings.send("m", next, (f) => told.push([...f]), up2.send(next));
    assert.equal(up2.seen.length, 1, "learned: sent right the first time");
    assert.deepEqual(told.at(-1), ["temperature"]);

    const other = { model: "other", messages: [], temperature: 0.9 };
    const up3 = upstream([]);
    await settings.send("other", other, undefined, up3.send(other));
    assert.equal(up3.seen[0]?.temperature, 0.9, "another model is not affected");
  });

  it("sends function tools at effort none where the refusal says only that takes them, asked for or not", async () => {
    const settings = refusedChatSettings();
    const refusedTools = () =>
      refusal(
        "reasoning_effort",
        "Function tools with reasoning_effort are not supported for gpt-5.6 in /v1/chat/completions. To use function tools, use /v1/responses or set reasoning_effort to 'none'.",
      );
    const seen: Record<string, unknown>[] = [];
    const send = (body: Record<string, unknown>) => async () => {
      seen.push({ ...body });
      if (Array.isArray(body.tools) && body.reasoning_effort !== "none") throw refusedTools();
      return "answer";
    };
    // Not asked: the model's default effort is what is refused; none goes, and nothing is named.
    const unasked: Record<string, unknown> = { model: "gpt-5.6", tools: [{}] };
    const told: string[][] = [];
    assert.equal(await settings.send("gpt-5.6", unasked, (f) => told.push([...f]), send(unasked)), "answer");
    assert.deepEqual(
      seen.map((b) => b.reasoning_effort),
      [undefined, "none"],
    );
    assert.equal(told.length, 0);
    // Learned: asked for, it goes at none from the start, named; without tools, as asked.
    const asked: Record<string, unknown> = { model: "gpt-5.6", tools: [{}], reasoning_effort: "high" };
    await settings.send("gpt-5.6", asked, (f) => told.push([...f]), send(asked));
    const plain: Record<string, unknown> = { model: "gpt-5.6", reasoning_effort: "high" };
    await settings.send("gpt-5.6", plain, (f) => told.push([...f]), send(plain));
    assert.deepEqual(
      seen.slice(2).map((b) => b.reasoning_effort),
      ["none", "high"],
    );
    assert.deepEqual(told, [["reasoning_effort high (none sent instead)"]]);
  });

  it("reads gpt-5.5's wording of the tools-beside-an-effort refusal, which has no param, as gpt-5.6's", async () => {
    const older = refusal(
      undefined,
      "Function tools with reasoning_effort are not supported for gpt-5.5 in /v1/chat/completions. Please use /v1/responses instead.",
    );
    assert.deepEqual(readOpenAIRefusal(older), { field: "reasoning_effort", message: older.message });
    assert.equal(refusesToolsWithEffort(older), true);
    assert.equal(
      refusesToolsWithEffort(refusal("reasoning_effort", "Unsupported value: 'reasoning_effort' does not support 'minimal'")),
      false,
    );

    // Without the Responses API, the same fix as gpt-5.6's wording: effort none beside the tools, named.
    const settings = refusedChatSettings();
    const seen: unknown[] = [];
    const body: Record<string, unknown> = { model: "gpt-5.5", tools: [{}], reasoning_effort: "low" };
    const told: string[][] = [];
    await settings.send(
      "gpt-5.5",
      body,
      (f) => told.push([...f]),
      async () => {
        seen.push(body.reasoning_effort);
        if (body.reasoning_effort !== "none") throw older;
        return "answer";
      },
    );
    assert.deepEqual(seen, ["low", "none"]);
    assert.deepEqual(told, [["reasoning_effort low (none sent instead)"]]);
  });

  it("renames a limit without naming anything", async () => {
    const settings = refusedChatSettings();
    const up = upstream(["max_tokens"]);
    const body: Record<string, unknown> = { model: "o4-mini", max_tokens: 10 };
    const told: string[][] = [];
    await settings.send("o4-mini", body, (f) => told.push([...f]), up.send(body));
    assert.deepEqual(up.seen.at(-1), { model: "o4-mini", max_completion_tokens: 10 });
    assert.deepEqual(told, []);
  });

  it("throws the refusal when the body cannot do without the field, or the error is no refusal", async () => {
    const settings = refusedChatSettings();
    const up = upstream(["tools"]);
    const body = { model: "m", tools: [] };
    await assert.rejects(settings.send("m", body, undefined, up.send(body)), /'tools' is not supported/);
    assert.equal(up.seen.length, 1);
    const boom = new GatewayError("upstream_error", "HTTP 500");
    await assert.rejects(
      settings.send("m", { model: "m" }, undefined, async () => {
        throw boom;
      }),
      (err) => err === boom,
    );
  });

  it("fixes a field once per request (a rename back and forth ends) and sends at most four more times", async () => {
    const settings = refusedChatSettings();
    const both = upstream(["max_tokens", "max_completion_tokens"]);
    const body: Record<string, unknown> = { model: "m", max_tokens: 5 };
    await assert.rejects(settings.send("m", body, undefined, both.send(body)));
    assert.ok(both.seen.length <= 3, `sent ${both.seen.length} times`);

    const many = new RefusedSettings(
      Object.fromEntries(["a", "b", "c", "d", "e", "f"].map((f) => [f, leaveOut(f)])),
      readOpenAIRefusal,
    );
    const up = upstream(["a", "b", "c", "d", "e", "f"]);
    const wide: Record<string, unknown> = { a: 1, b: 1, c: 1, d: 1, e: 1, f: 1 };
    await assert.rejects(many.send("m", wide, undefined, up.send(wide)));
    assert.equal(up.seen.length, 5, "the first send and four more");
  });

  it("leaveOut and rename refuse what the body does not hold", () => {
    assert.equal(leaveOut("x")({}, { field: "x", message: "" }), false);
    assert.equal(rename("x", "y")({ x: 1, y: 2 }, { field: "x", message: "" }), false);
  });
});
