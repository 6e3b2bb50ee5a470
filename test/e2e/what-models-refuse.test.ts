/**
 * Settings a model refuses, on a translated request: the upstreams here answer as OpenAI and
 * Anthropic do when a model does not take a parameter or a value (their real error bodies), and tandem
 * sends the request again without it (or with the limit under the name the model reads, or the nearest
 * effort it lists), names what was left out in `x-tandem-warnings`, and sends later requests to that
 * model without it from the start. Every body sent is audited. A same-wire body is the client's own:
 * its refusal goes back to the client as it came. A 400 that is no such refusal is sent once. Thinking
 * in the middle of a tool loop another target answered is not sent to Claude (the fake checks the
 * loop as Anthropic does), on the translated and the same-wire path.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, beforeEach, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOllamaUpstream, startFakeOllama } from "../support/fake-ollama-upstream.js";
import { type FakeResponsesUpstream, startFakeOpenAIResponses } from "../support/fake-openai-responses-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { RecordedRequest } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let oai: FakeOpenAIUpstream;
let claude: FakeAnthropic;
let codex: FakeResponsesUpstream;
let ollamaUp: FakeOllamaUpstream;
let tandem: RunningTandem;
let anthropic: Anthropic;
let openai: OpenAI;

/** OpenAI's own words (api.openai.com, 2025-2026) for a parameter or value a model does not take. */
const unsupportedParameter = (param: string) => ({
  error: {
    message: `Unsupported parameter: '${param}' is not supported with this model.`,
    type: "invalid_request_error",
    param,
    code: "unsupported_parameter",
  },
});
const maxTokensRefused = {
  error: {
    message: "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
    type: "invalid_request_error",
    param: "max_tokens",
    code: "unsupported_parameter",
  },
};
const temperatureRefused = (value: unknown) => ({
  error: {
    message: `Unsupported value: 'temperature' does not support ${value} with this model. Only the default (1) value is supported.`,
    type: "invalid_request_error",
    param: "temperature",
    code: "unsupported_value",
  },
});
/**
 * OpenAI's refusal of a `stop` list longer than its 4 (api.openai.com, as quoted in
 * continuedev/continue#1572).
 */
const stopTooLong = (length: number) => ({
  error: {
    message: `Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with length ${length} instead.`,
    type: "invalid_request_error",
    param: "stop",
    code: "array_above_max_length",
  },
});
/**
 * OpenAI's refusal of an identifier longer than it takes (api.openai.com takes at most 64 characters
 * in `user`, `safety_identifier` and `prompt_cache_key`; quoted in BerriAI/litellm's and other
 * gateways' tests). Claude Code's `metadata.user_id` is a JSON object of about 150 characters.
 */
const stringTooLong = (param: string, length: number) => ({
  error: {
    message: `Invalid '${param}': string too long. Expected a string with maximum length 64, but got a string with length ${length} instead.`,
    type: "invalid_request_error",
    param,
    code: "string_above_max_length",
  },
});
/**
 * api.openai.com's refusal of function tools beside a reasoning effort on chat completions (gpt-5.5
 * and later, whose default effort is medium: leaving the effort out is refused the same way).
 */
const toolsWithEffortRefused = (model: string) => ({
  error: {
    message: `Function tools with reasoning_effort are not supported for ${model} in /v1/chat/completions. To use function tools, use /v1/responses or set reasoning_effort to 'none'.`,
    type: "invalid_request_error",
    param: "reasoning_effort",
    code: null,
  },
});
const effortRefused = (value: unknown) => ({
  error: {
    message: `Unsupported value: 'reasoning_effort' does not support '${value}' with this model. Supported values are: 'none', 'low', 'medium', and 'high'.`,
    type: "invalid_request_error",
    param: "reasoning_effort",
    code: "unsupported_value",
  },
});

/**
 * The OpenAI upstream's models, as OpenAI's take their settings: gpt-4o-mini no reasoning effort;
 * o4-mini (a reasoning model) no `max_tokens` and no temperature but 1; gpt-5.1 no `minimal` effort.
 */
function openAIModels(request: RecordedRequest) {
  const body = request.body as Record<string, unknown>;
  const refuse = (json: unknown) => ({ kind: "error" as const, status: 400, body: json });
  if (body.model === "gpt-4o-mini" && "reasoning_effort" in body) return refuse(unsupportedParameter("reasoning_effort"));
  if (body.model === "o4-mini") {
    if ("max_tokens" in body) return refuse(maxTokensRefused);
    if (body.temperature !== undefined && body.temperature !== 1) return refuse(temperatureRefused(body.temperature));
  }
  if (body.model === "gpt-5.1" && body.reasoning_effort === "minimal") return refuse(effortRefused("minimal"));
  if (body.model === "gpt-5.6" && Array.isArray(body.tools) && body.reasoning_effort !== "none")
    return refuse(toolsWithEffortRefused("gpt-5.6"));

  // api.openai.com takes an end-user id of 64 characters at most; a vLLM or llama-server model takes any.
  if (body.model !== "qwen3-8b" && typeof body.user === "string" && body.user.length > 64)
    return refuse(stringTooLong("user", body.user.length));
  // api.openai.com takes 4 stop sequences at most; a vLLM or llama-server model (qwen3-8b here) takes any number.
  if (body.model !== "qwen3-8b" && Array.isArray(body.stop) && body.stop.length > 4) return refuse(stopTooLong(body.stop.length));
  // Mistral's API (a FastAPI server) forbids fields it does not know, with a 422 in pydantic's words.
  if (body.model === "mistral-small-latest" && "stop" in body) {
    return {
      kind: "error" as const,
      status: 422,
      body: {
        object: "error",
        message: {
          detail: [{ type: "extra_forbidden", loc: ["body", "stop"], msg: "Extra inputs are not permitted", input: body.stop }],
        },
        type: "invalid_request_message_error",
        param: null,
        code: null,
      },
    };
  }
  if (body.model === "gpt-4o-mini" && typeof body.max_tokens === "number" && body.max_tokens > 16384) {
    return refuse({
      error: {
        message: `max_tokens is too large: ${body.max_tokens}. This model supports at most 16384 completion tokens, whereas you provided ${body.max_tokens}.`,
        type: "invalid_request_error",
        param: "max_tokens",
        code: "invalid_value",
      },
    });
  }
  if (body.model === "gpt-4o-mini" && Array.isArray(body.messages) && body.messages.length === 0) {
    return refuse({
      error: { message: "[] is too short - 'messages'", type: "invalid_request_error", param: "messages", code: "empty_array" },
    });
  }
  return { kind: "text" as const, text: "Hello!" };
}

const anthropicRefusal = (message: string) => ({
  kind: "error" as const,
  status: 400,
  body: { type: "error", error: { type: "invalid_request_error", message }, request_id: "req_011CTfrnTsra8hsUuM24BzEC" },
});

/** Anthropic's check of a tool loop with thinking enabled: the last assistant turn, which called tools, starts with thinking. */
function toolLoopRefusal(body: Record<string, unknown>) {
  if ((body.thinking as { type?: string } | undefined)?.type !== "enabled") return undefined;
  const messages = body.messages as { role: string; content: unknown }[];
  let last = messages.length - 1;
  while (last >= 0 && messages[last]?.role !== "assistant") last--;
  const turn = messages[last];
  const blocks = Array.isArray(turn?.content) ? (turn.content as { type: string }[]) : [];
  if (last < 0 || last === messages.length - 1 || !blocks.some((b) => b.type === "tool_use")) return undefined;
  if (blocks[0]?.type === "thinking" || blocks[0]?.type === "redacted_thinking") return undefined;
  return anthropicRefusal(
    `messages.${last}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${blocks[0]?.type}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block (preceeding the lastmost set of \`tool_use\` and \`tool_result\` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable \`thinking\`.`,
  );
}

/** Anthropic's check of text blocks: none empty, and not all of a turn's whitespace only. */
function blankTextRefusal(body: Record<string, unknown>) {
  for (const message of body.messages as { content: unknown }[]) {
    if (!Array.isArray(message.content)) continue;
    const texts = (message.content as { type: string; text?: string }[]).filter((b) => b.type === "text");
    if (texts.some((b) => b.text === "")) return anthropicRefusal("messages: text content blocks must be non-empty");
    if (texts.length > 0 && texts.every((b) => b.text?.trim() === ""))
      return anthropicRefusal("messages: text content blocks must contain non-whitespace text");
  }
  return undefined;
}

/**
 * Claude models, as Anthropic answers them: since Opus 4.1 temperature or top_p, not both; at most
 * 64000 output tokens; thinking blocks checked in a tool loop; claude-opus-4-7 thinks adaptively only,
 * claude-3-5-haiku not at all. `claude-opus-4.7` is that model as GitHub Copilot's Anthropic API serves
 * it (behind copilot-api and the like): adaptively, at effort medium only.
 */
function claudeModels(request: RecordedRequest) {
  const body = request.body as Record<string, unknown>;
  const thinking = body.thinking as { type?: string } | undefined;
  if ((body.model === "claude-opus-4-7" || body.model === "claude-opus-4.7") && thinking?.type === "enabled") {
    return anthropicRefusal(
      '"thinking.type.enabled" is not supported for this model. Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.',
    );
  }
  const effort = (body.output_config as { effort?: string } | undefined)?.effort;
  if (body.model === "claude-opus-4.7" && effort !== undefined && effort !== "medium") {
    return anthropicRefusal(
      `output_config.effort "${effort}" is not supported by model claude-opus-4.7; supported values: [medium]`,
    );
  }
  if (body.model === "claude-3-5-haiku-20241022" && thinking !== undefined && thinking.type !== "disabled") {
    return anthropicRefusal("'claude-3-5-haiku-20241022' does not support thinking.");
  }
  const loop = toolLoopRefusal(body);
  if (loop) return loop;
  const blank = blankTextRefusal(body);
  if (blank) return blank;
  if (typeof body.max_tokens === "number" && body.max_tokens > 64000) {
    return anthropicRefusal(
      `max_tokens: ${body.max_tokens} > 64000, which is the maximum allowed number of output tokens for claude-sonnet-4-5-20250929`,
    );
  }
  if (body.temperature !== undefined && body.top_p !== undefined) {
    return anthropicRefusal("`temperature` and `top_p` cannot both be specified for this model. Please use only one.");
  }
  return { kind: "text" as const, text: "Hello!" };
}

const posts = (fake: { requests: RecordedRequest[] }) => fake.requests.filter((r) => r.method === "POST");
const bodies = (fake: { requests: RecordedRequest[] }) => posts(fake).map((r) => r.body as Record<string, unknown>);

/** An Anthropic client's one-message request with a thinking budget (max_tokens above it, as Anthropic wants). */
function thinkingRequest(model: string, budget: number) {
  return anthropic.messages
    .create({
      model,
      max_tokens: budget + 2000,
      thinking: { type: "enabled", budget_tokens: budget },
      messages: [{ role: "user", content: "Hi" }],
    })
    .withResponse();
}

async function auditedBodies(): Promise<number> {
  const res = await fetch(`${tandem.url}/v1/audit`);
  return ((await res.json()) as { data: unknown[] }).data.length;
}

before(async () => {
  [oai, claude, codex, ollamaUp] = await Promise.all([
    startFakeOpenAI({ models: ["gpt-4o-mini", "o4-mini", "gpt-5.1", "gpt-5.6", "mistral-small-latest", "qwen3-8b"] }),
    startFakeAnthropic({ models: ["claude-sonnet-4-5", "claude-opus-4-7", "claude-opus-4.7", "claude-3-5-haiku-20241022"] }),
    startFakeOpenAIResponses({ models: ["gpt-5-codex", "gpt-4o"] }),
    startFakeOllama({ models: ["llama3.2:latest"] }),
  ]);
  oai.script(openAIModels);
  claude.script(claudeModels);
  // As Ollama's server/routes.go answers `think` for a model that cannot think.
  ollamaUp.script((request) => {
    const think = (request.body as { think?: unknown }).think;
    return think !== undefined && think !== false
      ? { kind: "error", status: 400, body: { error: '"llama3.2:latest" does not support thinking' } }
      : { kind: "text", text: "Hello!" };
  });
  tandem = await startTandem(
    {
      providers: {
        // An Azure-like host: tandem sends `max_tokens` until a model says otherwise.
        oai: {
          kind: "openai",
          baseUrl: oai.url,
          apiKeys: ["env:UP"],
          local: false,
          models: ["gpt-4o-mini", "o4-mini", "gpt-5.1", "gpt-5.6", "mistral-small-latest"],
        },
        // A vLLM or llama-server: the OpenAI wire, without api.openai.com's bound on `stop`.
        vllm: { kind: "openai", baseUrl: oai.url, apiKeys: ["env:UP"], local: false, models: ["qwen3-8b"] },
        claude: {
          kind: "anthropic",
          baseUrl: claude.url,
          apiKeys: ["env:UP"],
          local: false,
          models: ["claude-sonnet-4-5", "claude-opus-4-7", "claude-opus-4.7", "claude-3-5-haiku-20241022"],
        },
        codex: {
          kind: "openai",
          baseUrl: codex.url,
          apiKeys: ["env:UP"],
          responses: "only",
          local: false,
          models: ["gpt-5-codex", "gpt-4o"],
        },
        ollama: { kind: "ollama", baseUrl: ollamaUp.url, models: ["llama3.2:latest"] },
      },
    },
    { env: { UP: "sk-upstream" }, store: true },
  );
  anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await Promise.all([oai?.close(), claude?.close(), codex?.close(), ollamaUp?.close()]);
});

beforeEach(() => {
  oai.requests.length = 0;
  claude.requests.length = 0;
  codex.requests.length = 0;
  ollamaUp.requests.length = 0;
  codex.responseBodies.length = 0;
});

describe("an Anthropic client's thinking to a model without reasoning (gpt-4o-mini)", () => {
  const params = {
    model: "oai/gpt-4o-mini",
    max_tokens: 4000,
    thinking: { type: "enabled" as const, budget_tokens: 2048 },
    messages: [{ role: "user" as const, content: "Hi" }],
  };

  it("is sent again without reasoning_effort, named in x-tandem-warnings, and both bodies are audited", async () => {
    const audited = await auditedBodies();
    const { data, response } = await anthropic.messages.create(params).withResponse();
    assert.deepEqual(data.content, [{ type: "text", text: "Hello!", citations: null }]);
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /reasoning_effort not sent to oai\/gpt-4o-mini/);
    const sent = bodies(oai);
    assert.equal(sent.length, 2, "the refused body, then the one without it");
    assert.equal(sent[0]?.reasoning_effort, "low");
    assert.equal("reasoning_effort" in (sent[1] ?? {}), false);
    assert.equal(response.headers.get("x-tandem-attempts"), "1", "one attempt: the resend is part of it");
    // Each body that left was audited before it left.
    for (let i = 0; i < 50 && (await auditedBodies()) < audited + 2; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await auditedBodies(), audited + 2);
  });

  it("is sent without it from the start once the model refused it, streamed, still named", async () => {
    const stream = anthropic.messages.stream(params);
    const message = await stream.finalMessage();
    const headers = (await stream.withResponse()).response.headers;
    assert.deepEqual(
      message.content.filter((b) => b.type === "text").map((b) => (b as { text: string }).text),
      ["Hello!"],
    );
    assert.match(headers.get("x-tandem-warnings") ?? "", /reasoning_effort not sent to oai\/gpt-4o-mini/);
    const sent = bodies(oai);
    assert.equal(sent.length, 1);
    assert.equal("reasoning_effort" in (sent[0] ?? {}), false);
  });
});

describe("a field a strict compatible server does not know (Mistral's 422 'Extra inputs are not permitted')", () => {
  it("an Anthropic client's stop sequences are sent again without `stop`, named", async () => {
    const { data, response } = await anthropic.messages
      .create({
        model: "oai/mistral-small-latest",
        max_tokens: 100,
        stop_sequences: ["END"],
        messages: [{ role: "user", content: "Hi" }],
      })
      .withResponse();
    assert.equal(data.stop_reason, "end_turn");
    assert.deepEqual(
      bodies(oai).map((b) => "stop" in b),
      [true, false],
    );
    // By the client's own field: the Messages API has no `stop`.
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /(^|; )stop_sequences not sent to oai\/mistral-small-latest/);
  });
});

describe("more stop sequences than OpenAI's 4", () => {
  const five = ["END", "STOP", "###", "</answer>", "Human:"];

  it("an Anthropic client's five are sent again as the first 4, named, and the answer comes", async () => {
    const { data, response } = await anthropic.messages
      .create({ model: "oai/gpt-4o-mini", max_tokens: 100, stop_sequences: five, messages: [{ role: "user", content: "Hi" }] })
      .withResponse();
    assert.deepEqual(data.content, [{ type: "text", text: "Hello!", citations: null }]);
    assert.deepEqual(
      bodies(oai).map((b) => b.stop),
      [five, five.slice(0, 4)],
    );
    assert.match(
      response.headers.get("x-tandem-warnings") ?? "",
      /stop sequences after the first 4 \(1 of 5\) not sent to oai\/gpt-4o-mini/,
    );
  });

  it("an Ollama client's options.stop goes as the first 4 from the start once the model refused more, still named", async () => {
    const res = await fetch(`${tandem.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "oai/gpt-4o-mini",
        stream: false,
        messages: [{ role: "user", content: "Hi" }],
        options: { stop: [...five, "Assistant:"] },
      }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(((await res.json()) as { message: { content: string } }).message.content, "Hello!");
    assert.deepEqual(
      bodies(oai).map((b) => b.stop),
      [five.slice(0, 4)],
    );
    assert.match(
      res.headers.get("x-tandem-warnings") ?? "",
      /stop sequences after the first 4 \(2 of 6\) not sent to oai\/gpt-4o-mini/,
    );
  });

  it("4 or fewer go as asked, with no warning", async () => {
    const { response } = await anthropic.messages
      .create({ model: "oai/gpt-4o-mini", max_tokens: 100, stop_sequences: ["END"], messages: [{ role: "user", content: "Hi" }] })
      .withResponse();
    assert.deepEqual(
      bodies(oai).map((b) => b.stop),
      [["END"]],
    );
    assert.equal(response.headers.get("x-tandem-warnings"), null);
  });

  it("a compatible server that takes more (vLLM, llama-server) gets every one", async () => {
    const { response } = await anthropic.messages
      .create({ model: "vllm/qwen3-8b", max_tokens: 100, stop_sequences: five, messages: [{ role: "user", content: "Hi" }] })
      .withResponse();
    assert.deepEqual(
      bodies(oai).map((b) => b.stop),
      [five],
    );
    assert.equal(response.headers.get("x-tandem-warnings"), null);
  });
});

describe("an end-user id longer than OpenAI's 64 characters (Claude Code's metadata.user_id)", () => {
  const userId =
    '{"device_id":"3f9a0c5e1b7d2a4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f2a4b","account_uuid":"8d1e2f3a-4b5c-4d6e-8f70-9a0b1c2d3e4f","session_id":"be67cd1f-be00-4f21-95cb-1b6b909c7744"}';
  const hashed = createHash("sha256").update(userId).digest("hex");
  const ask = (model: string, user_id: string) =>
    anthropic.messages
      .create({ model, max_tokens: 100, metadata: { user_id }, messages: [{ role: "user", content: "Hi" }] })
      .withResponse();

  it("is sent again as its SHA-256 (64 hex digits, one stable id per user), named, and the answer comes", async () => {
    const { data, response } = await ask("oai/gpt-4o-mini", userId);
    assert.deepEqual(data.content, [{ type: "text", text: "Hello!", citations: null }]);
    assert.deepEqual(
      bodies(oai).map((b) => b.user),
      [userId, hashed],
    );
    assert.match(
      response.headers.get("x-tandem-warnings") ?? "",
      /metadata\.user_id \(its SHA-256 sent instead\) not sent to oai\/gpt-4o-mini/,
    );
  });

  it("goes as its SHA-256 from the start once the model refused it, streamed; a short one goes as asked, unnamed", async () => {
    const stream = anthropic.messages.stream({
      model: "oai/gpt-4o-mini",
      max_tokens: 100,
      metadata: { user_id: userId },
      messages: [{ role: "user", content: "Hi" }],
    });
    assert.equal(await stream.finalText(), "Hello!");
    assert.deepEqual(
      bodies(oai).map((b) => b.user),
      [hashed],
    );
    const { response } = await ask("oai/gpt-4o-mini", "user_42");
    assert.equal(bodies(oai).at(-1)?.user, "user_42");
    assert.equal(response.headers.get("x-tandem-warnings"), null);
  });

  it("a compatible server that takes it whole (vLLM, llama-server) gets it whole", async () => {
    const { response } = await ask("vllm/qwen3-8b", userId);
    assert.deepEqual(
      bodies(oai).map((b) => b.user),
      [userId],
    );
    assert.equal(response.headers.get("x-tandem-warnings"), null);
  });
});

describe("an output limit above the model's", () => {
  it("Claude Code's 32000 to gpt-4o-mini (16384) is sent as 16384, and a limit within it as asked", async () => {
    const stream = anthropic.messages.stream({
      model: "oai/gpt-4o-mini",
      max_tokens: 32000,
      messages: [{ role: "user", content: "Hi" }],
    });
    const data = await stream.finalMessage();
    const { response } = await stream.withResponse();
    assert.equal(data.stop_reason, "end_turn");
    assert.deepEqual(
      bodies(oai).map((b) => b.max_tokens),
      [32000, 16384],
    );
    assert.match(
      response.headers.get("x-tandem-warnings") ?? "",
      /max_tokens 32000 \(16384 sent instead\) not sent to oai\/gpt-4o-mini/,
    );

    oai.requests.length = 0;
    const within = await anthropic.messages
      .create({ model: "oai/gpt-4o-mini", max_tokens: 1000, messages: [{ role: "user", content: "Hi" }] })
      .withResponse();
    assert.deepEqual(
      bodies(oai).map((b) => b.max_tokens),
      [1000],
    );
    assert.equal(within.response.headers.get("x-tandem-warnings"), null);
  });

  it("an OpenAI client's 100000 to Claude (64000) is sent as 64000", async () => {
    const { response } = await openai.chat.completions
      .create({ model: "claude/claude-sonnet-4-5", max_tokens: 100000, messages: [{ role: "user", content: "Hi" }] })
      .withResponse();
    assert.deepEqual(
      bodies(claude).map((b) => b.max_tokens),
      [100000, 64000],
    );
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /max_tokens 100000 \(64000 sent instead\)/);
  });

  it("an effort's thinking budget over the limit leaves the answer its own allowance (xhigh: 49152 beside 20000)", async () => {
    const { response } = await openai.chat.completions
      .create({
        model: "claude/claude-sonnet-4-5",
        max_completion_tokens: 20000,
        reasoning_effort: "xhigh",
        messages: [{ role: "user", content: "Hi" }],
      })
      .withResponse();
    // The model's limit is known from the refusal above: sent right the first time.
    assert.deepEqual(
      bodies(claude).map((b) => [b.max_tokens, (b.thinking as { budget_tokens?: number }).budget_tokens]),
      [[64000, 44000]],
    );
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /max_tokens 69152 \(64000 sent instead\)/);
  });
});

describe("an OpenAI reasoning model's own settings (o4-mini), from a Responses client", () => {
  it("gets the limit as max_completion_tokens (nothing lost, no warning) and no temperature but its default", async () => {
    const { data, response } = await openai.responses
      .create({ model: "oai/o4-mini", max_output_tokens: 300, temperature: 0.2, input: "Hi" })
      .withResponse();
    assert.equal(data.output_text, "Hello!");
    const sent = bodies(oai);
    assert.equal(sent.length, 3, "refused for max_tokens, then for temperature, then answered");
    assert.equal(sent[2]?.max_completion_tokens, 300);
    assert.equal("max_tokens" in (sent[2] ?? {}), false);
    assert.equal("temperature" in (sent[2] ?? {}), false);
    const warnings = response.headers.get("x-tandem-warnings") ?? "";
    assert.match(warnings, /temperature not sent to oai\/o4-mini/);
    assert.doesNotMatch(warnings, /max_tokens/);
  });

  it("the next request goes right the first time, streamed", async () => {
    const stream = openai.responses.stream({ model: "oai/o4-mini", max_output_tokens: 300, temperature: 0.7, input: "Hi" });
    assert.equal((await stream.finalResponse()).output_text, "Hello!");
    const sent = bodies(oai);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.max_completion_tokens, 300);
    assert.equal("temperature" in (sent[0] ?? {}), false);
  });
});

describe("an effort level the model does not take (gpt-5.1 and minimal)", () => {
  it("is sent as the nearest level the refusal lists, and says so", async () => {
    const { response } = await thinkingRequest("oai/gpt-5.1", 1024);
    const sent = bodies(oai);
    assert.deepEqual(
      sent.map((b) => b.reasoning_effort),
      ["minimal", "low"],
    );
    assert.match(
      response.headers.get("x-tandem-warnings") ?? "",
      /reasoning_effort minimal \(low sent instead\) not sent to oai\/gpt-5\.1/,
    );
  });

  it("a level the model takes is sent as asked, with no warning", async () => {
    const { response } = await thinkingRequest("oai/gpt-5.1", 8192);
    assert.deepEqual(
      bodies(oai).map((b) => b.reasoning_effort),
      ["medium"],
    );
    assert.equal(response.headers.get("x-tandem-warnings"), null);
  });
});

describe("thinking beside function tools, which gpt-5.6 takes on chat completions only at effort none", () => {
  const weather = { name: "get_weather", input_schema: { type: "object" as const, properties: { city: { type: "string" } } } };
  it("is sent again at none, as the refusal advises, named; without tools the effort goes as asked", async () => {
    const { data, response } = await anthropic.messages
      .create({
        model: "oai/gpt-5.6",
        max_tokens: 4000,
        thinking: { type: "enabled", budget_tokens: 2048 },
        tools: [weather],
        messages: [{ role: "user", content: "Weather in Oslo?" }],
      })
      .withResponse();
    assert.deepEqual(data.content, [{ type: "text", text: "Hello!", citations: null }]);
    assert.deepEqual(
      bodies(oai).map((b) => b.reasoning_effort),
      ["low", "none"],
    );
    assert.match(
      response.headers.get("x-tandem-warnings") ?? "",
      /reasoning_effort low \(none sent instead\) not sent to oai\/gpt-5\.6/,
    );
    oai.requests.length = 0;
    // Without thinking: the model's own default effort is what is refused, so none goes from the start, unnamed.
    const { response: unasked } = await anthropic.messages
      .create({ model: "oai/gpt-5.6", max_tokens: 100, tools: [weather], messages: [{ role: "user", content: "Oslo?" }] })
      .withResponse();
    assert.deepEqual(
      bodies(oai).map((b) => b.reasoning_effort),
      ["none"],
    );
    assert.equal(unasked.headers.get("x-tandem-warnings"), null);
    oai.requests.length = 0;
    const { response: plain } = await thinkingRequest("oai/gpt-5.6", 2048);
    assert.deepEqual(
      bodies(oai).map((b) => b.reasoning_effort),
      ["low"],
    );
    assert.equal(plain.headers.get("x-tandem-warnings"), null);
  });
});

describe("thinking, where a Claude model cannot take it as asked", () => {
  it("claude-opus-4-7 (adaptive only) gets adaptive thinking at the budget's effort", async () => {
    const { response } = await openai.chat.completions
      .create({ model: "claude/claude-opus-4-7", reasoning_effort: "high", messages: [{ role: "user", content: "Hi" }] })
      .withResponse();
    const sent = bodies(claude);
    assert.equal(sent.length, 2);
    assert.deepEqual(sent[1]?.thinking, { type: "adaptive" });
    assert.deepEqual(sent[1]?.output_config, { effort: "high" });
    assert.match(
      response.headers.get("x-tandem-warnings") ?? "",
      /thinking\.budget_tokens 24576 \(adaptive thinking at effort high sent instead\)/,
    );
  });

  it("an effort level the model does not take goes as the one its refusal allows, named, and then from the start", async () => {
    const ask = () =>
      openai.chat.completions
        .create({ model: "claude/claude-opus-4.7", reasoning_effort: "high", messages: [{ role: "user", content: "Hi" }] })
        .withResponse();
    const { data, response } = await ask();
    assert.equal(data.choices[0]?.message.content, "Hello!");
    const sent = bodies(claude);
    assert.deepEqual(
      sent.map((b) => [
        (b.thinking as { type?: string } | undefined)?.type,
        (b.output_config as { effort?: string } | undefined)?.effort,
      ]),
      [
        ["enabled", undefined],
        ["adaptive", "high"],
        ["adaptive", "medium"],
      ],
    );
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /output_config\.effort high \(medium sent instead\)/);
    claude.requests.length = 0;
    const { response: again } = await ask();
    assert.equal(bodies(claude).length, 1, "sent right the first time");
    assert.match(again.headers.get("x-tandem-warnings") ?? "", /output_config\.effort high \(medium sent instead\)/);
  });

  it("claude-3-5-haiku (no thinking) is sent without it", async () => {
    const { response } = await openai.chat.completions
      .create({ model: "claude/claude-3-5-haiku-20241022", reasoning_effort: "low", messages: [{ role: "user", content: "Hi" }] })
      .withResponse();
    const sent = bodies(claude);
    assert.equal(sent.length, 2);
    assert.equal("thinking" in (sent[1] ?? {}), false);
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /thinking not sent to claude\/claude-3-5-haiku-20241022/);
  });
});

describe("thinking in the middle of a tool loop another target answered", () => {
  const call = { id: "call_abc123", type: "function" as const, function: { name: "get_weather", arguments: '{"city":"Paris"}' } };
  const tools = [
    {
      type: "function" as const,
      function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
    },
  ];

  const loop = [
    { role: "user" as const, content: "Weather in Paris?" },
    { role: "assistant" as const, content: null, tool_calls: [call] },
    { role: "tool" as const, tool_call_id: "call_abc123", content: "18C, sunny" },
  ];
  const withReasoning = { model: "claude/claude-sonnet-4-5", reasoning_effort: "medium" as const, tools };

  it("an OpenAI client's reasoning goes without thinking while the loop's turn has none Anthropic can check, and with it after", async () => {
    const { data, response } = await openai.chat.completions.create({ ...withReasoning, messages: loop }).withResponse();
    assert.equal(data.choices[0]?.message.content, "Hello!");
    const sent = bodies(claude);
    assert.equal(sent.length, 1, "sent right the first time");
    assert.equal("thinking" in (sent[0] ?? {}), false);
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /thinking not sent to claude\/claude-sonnet-4-5/);

    claude.requests.length = 0;
    await openai.chat.completions.create({
      ...withReasoning,
      messages: [...loop, { role: "assistant", content: "18C and sunny." }, { role: "user", content: "And tomorrow?" }],
    });
    assert.equal((bodies(claude)[0]?.thinking as { type?: string } | undefined)?.type, "enabled", "a new turn thinks again");
  });

  it("an Anthropic client's own body (same wire) goes without thinking when the loop's turn came from another provider", async () => {
    const params = {
      model: "claude/claude-sonnet-4-5",
      max_tokens: 4000,
      thinking: { type: "enabled" as const, budget_tokens: 2048 },
      tools: [{ name: "get_weather", input_schema: { type: "object" as const, properties: { city: { type: "string" } } } }],
      messages: [
        { role: "user" as const, content: "Weather in Paris?" },
        {
          role: "assistant" as const,
          content: [
            // tandem's rendering of an OpenAI-compatible upstream's reasoning: no signature.
            { type: "thinking" as const, thinking: "I should look it up.", signature: "" },
            { type: "tool_use" as const, id: "toolu_call_abc123", name: "get_weather", input: { city: "Paris" } },
          ],
        },
        {
          role: "user" as const,
          content: [{ type: "tool_result" as const, tool_use_id: "toolu_call_abc123", content: "18C, sunny" }],
        },
      ],
    };
    const { data, response } = await anthropic.messages.create(params).withResponse();
    assert.equal(data.stop_reason, "end_turn");
    const sent = bodies(claude);
    assert.equal(sent.length, 1);
    assert.equal("thinking" in (sent[0] ?? {}), false);
    const warnings = response.headers.get("x-tandem-warnings") ?? "";
    assert.match(warnings, /thinking not sent to claude\/claude-sonnet-4-5/);
    assert.match(warnings, /earlier reasoning/);

    // A loop whose turn Anthropic made (signed) keeps thinking, and the body goes as it came.
    claude.requests.length = 0;
    const signed = structuredClone(params);
    (signed.messages[1]?.content as { signature?: string }[])[0]!.signature = "EqQBCgIYAhIMsigned";
    await anthropic.messages.create(signed);
    assert.deepEqual(bodies(claude)[0]?.thinking, { type: "enabled", budget_tokens: 2048 });
  });
});

describe("whitespace-only text, which a model wrote and Anthropic refuses", () => {
  it('a local or OpenAI model\'s "\\n\\n" before its tool call is not sent to Claude (translated)', async () => {
    const data = await openai.chat.completions.create({
      model: "claude/claude-sonnet-4-5",
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }],
      messages: [
        { role: "user", content: "Weather in Paris?" },
        {
          role: "assistant",
          content: "\n\n",
          tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: "{}" } }],
        },
        { role: "tool", tool_call_id: "call_1", content: "sunny" },
      ],
    });
    assert.equal(data.choices[0]?.message.content, "Hello!");
    const turn = (bodies(claude)[0]?.messages as { role: string; content: { type: string }[] }[])[1];
    assert.deepEqual(
      turn?.content.map((b) => b.type),
      ["tool_use"],
    );
  });

  it("an Anthropic client's own body (same wire) goes without a turn's whitespace-only text, and keeps whitespace beside real text", async () => {
    const data = await anthropic.messages.create({
      model: "claude/claude-sonnet-4-5",
      max_tokens: 100,
      tools: [{ name: "get_weather", input_schema: { type: "object" } }],
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Weather?" },
            { type: "text", text: " " },
          ],
        },
        {
          role: "assistant",
          content: [
            { type: "text", text: "\n\n" },
            { type: "tool_use", id: "toolu_1", name: "get_weather", input: {} },
          ],
        },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "sunny" }] },
      ],
    });
    assert.equal(data.stop_reason, "end_turn");
    const messages = bodies(claude)[0]?.messages as { content: { type: string; text?: string }[] }[];
    assert.deepEqual(messages[0]?.content, [
      { type: "text", text: "Weather?" },
      { type: "text", text: " " },
    ]);
    assert.deepEqual(
      messages[1]?.content.map((b) => b.type),
      ["tool_use"],
    );
  });
});

describe("an OpenAI client's temperature and top_p to a Claude model that takes one", () => {
  it("is sent again without top_p, named, whole and streamed", async () => {
    const params = {
      model: "claude/claude-sonnet-4-5",
      temperature: 0.3,
      top_p: 0.9,
      messages: [{ role: "user" as const, content: "Hi" }],
    };
    const { data, response } = await openai.chat.completions.create(params).withResponse();
    assert.equal(data.choices[0]?.message.content, "Hello!");
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /top_p not sent to claude\/claude-sonnet-4-5/);
    let sent = bodies(claude);
    assert.equal(sent.length, 2);
    assert.equal(sent[1]?.temperature, 0.3);
    assert.equal("top_p" in (sent[1] ?? {}), false);

    claude.requests.length = 0;
    const { data: stream, response: streamed } = await openai.chat.completions.create({ ...params, stream: true }).withResponse();
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    assert.equal(text, "Hello!");
    assert.match(streamed.headers.get("x-tandem-warnings") ?? "", /top_p not sent/);
    sent = bodies(claude);
    assert.equal(sent.length, 1, "learned: no second refusal");
  });
});

describe("an output limit below a Responses upstream's minimum", () => {
  it("Claude Code's max_tokens 1 (its quota check) is sent as 16, the least the Responses API takes", async () => {
    codex.script((request) => {
      const limit = (request.body as { max_output_tokens?: number }).max_output_tokens;
      return limit !== undefined && limit < 16
        ? {
            kind: "error",
            status: 400,
            message: `Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got ${limit} instead.`,
            param: "max_output_tokens",
            code: "integer_below_min_value",
          }
        : { kind: "answer", text: "Hello!" };
    });
    const { data, response } = await anthropic.messages
      .create({ model: "codex/gpt-5-codex", max_tokens: 1, messages: [{ role: "user", content: "quota" }] })
      .withResponse();
    assert.equal(data.type, "message");
    assert.deepEqual(
      codex.responseBodies.map((b) => b.max_output_tokens),
      [1, 16],
    );
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /max_output_tokens 1 \(16 sent instead\)/);
  });
});

describe("a Responses-only upstream's model without reasoning (gpt-4o)", () => {
  it("is sent without the reasoning it refused and without asking for encrypted reasoning", async () => {
    codex.script((request) => {
      const body = request.body as Record<string, unknown>;
      if (body.model !== "gpt-4o") return { kind: "answer", text: "Hello!" };
      if (body.reasoning !== undefined)
        return {
          kind: "error",
          status: 400,
          message: "Unsupported parameter: 'reasoning.effort' is not supported with this model.",
          param: "reasoning.effort",
          code: "unsupported_parameter",
        };
      if (Array.isArray(body.include) && body.include.includes("reasoning.encrypted_content"))
        return { kind: "error", status: 400, message: "Encrypted content is not supported with this model.", param: "include" };
      return { kind: "answer", text: "Hello!" };
    });
    const { data, response } = await openai.chat.completions
      .create({ model: "codex/gpt-4o", reasoning_effort: "medium", messages: [{ role: "user", content: "Hi" }] })
      .withResponse();
    assert.equal(data.choices[0]?.message.content, "Hello!");
    const sent = codex.responseBodies;
    const last = sent.at(-1) as Record<string, unknown>;
    assert.equal("reasoning" in last, false);
    assert.equal("include" in last, false);
    const warnings = response.headers.get("x-tandem-warnings") ?? "";
    assert.match(warnings, /reasoning\.effort not sent to codex\/gpt-4o/);
    assert.doesNotMatch(warnings, /include/, "tandem's own ask is not the client's loss");
  });
});

describe("an OpenAI client's reasoning effort to an Ollama model that cannot think", () => {
  it("is sent again without think, named, streamed", async () => {
    const { data: stream, response } = await openai.chat.completions
      .create({
        model: "ollama/llama3.2:latest",
        reasoning_effort: "high",
        stream: true,
        messages: [{ role: "user", content: "Hi" }],
      })
      .withResponse();
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    assert.equal(text, "Hello!");
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /think not sent to ollama\/llama3\.2:latest/);
    const sent = bodies(ollamaUp);
    assert.deepEqual(
      sent.map((b) => b.think),
      ["high", undefined],
    );
  });
});

describe("what is not a refused setting", () => {
  it("a same-wire body's refusal goes back to the client as the upstream gave it, sent once", async () => {
    await assert.rejects(
      openai.chat.completions.create({
        model: "oai/gpt-4o-mini",
        reasoning_effort: "low",
        messages: [{ role: "user", content: "Hi" }],
      }),
      (err: InstanceType<typeof OpenAI.BadRequestError>) => {
        assert.equal(err.status, 400);
        assert.equal(err.param, "reasoning_effort");
        assert.match(err.message, /Unsupported parameter: 'reasoning_effort'/);
        return true;
      },
    );
    assert.equal(posts(oai).length, 1);
  });

  it("a 400 about the request itself, or a refusal of what cannot be left out, is sent once and answered as it came", async () => {
    oai.script((request) => {
      const body = request.body as { messages?: { content?: unknown }[]; tools?: unknown };
      if (body.tools !== undefined) return { kind: "error", status: 400, body: unsupportedParameter("tools") };
      if (body.messages?.[0]?.content === "TOO LONG")
        return {
          kind: "error",
          status: 400,
          body: {
            error: {
              message: "Invalid 'messages[0].content': string too long.",
              type: "invalid_request_error",
              param: "messages[0].content",
              code: "string_above_max_length",
            },
          },
        };
      return openAIModels(request);
    });
    try {
      await assert.rejects(
        anthropic.messages.create({
          model: "oai/gpt-4o-mini",
          max_tokens: 100,
          messages: [{ role: "user", content: "TOO LONG" }],
        }),
        (err: InstanceType<typeof Anthropic.BadRequestError>) => err.status === 400 && /string too long/.test(err.message),
      );
      assert.equal(posts(oai).length, 1);
      oai.requests.length = 0;
      await assert.rejects(
        anthropic.messages.create({
          model: "oai/gpt-4o-mini",
          max_tokens: 100,
          tools: [{ name: "Bash", input_schema: { type: "object" } }],
          messages: [{ role: "user", content: "Hi" }],
        }),
        (err: InstanceType<typeof Anthropic.BadRequestError>) =>
          err.status === 400 && /'tools' is not supported/.test(err.message),
      );
      assert.equal(posts(oai).length, 1);
    } finally {
      oai.script(openAIModels);
    }
  });
});
