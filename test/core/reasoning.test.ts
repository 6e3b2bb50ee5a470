import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  budgetForEffort,
  collectChat,
  effortForBudget,
  effortOnWire,
  type Message,
  ReasoningBlocks,
  reasoningForTarget,
  type StreamEvent,
  unsentEffort,
} from "../../src/core/index.js";

const history = (reasoning: NonNullable<Extract<Message, { role: "assistant" }>["reasoning"]>): Message[] => [
  { role: "user", content: [{ type: "text", text: "Hi" }] },
  { role: "assistant", content: [{ type: "text", text: "Hello" }], reasoning },
  { role: "user", content: [{ type: "text", text: "Again" }] },
];

describe("reasoningForTarget", () => {
  it("a signature goes back to the provider that made it, and only there", () => {
    const messages = history([
      { type: "reasoning", text: "mine", signature: "S1", producer: "claude/claude-sonnet-4-5" },
      { type: "reasoning", text: "theirs", signature: "S2", producer: "work-claude/claude-sonnet-4-5" },
    ]);
    const out = reasoningForTarget(messages, "claude/claude-haiku-4-5", "signed");
    assert.equal(out.dropped, 1);
    assert.deepEqual((out.messages[1] as { reasoning?: unknown }).reasoning, [
      { type: "reasoning", text: "mine", signature: "S1" },
    ]);
  });

  it("a signature from an Anthropic client (no producer) goes to an Anthropic target; unsigned text does not", () => {
    const out = reasoningForTarget(
      history([
        { type: "reasoning", text: "signed", signature: "S" },
        { type: "reasoning", text: "", redactedData: "ENC" },
        { type: "reasoning", text: "unsigned" },
      ]),
      "claude/x",
      "signed",
    );
    assert.equal(out.dropped, 1);
    assert.deepEqual((out.messages[1] as { reasoning?: unknown }).reasoning, [
      { type: "reasoning", text: "signed", signature: "S" },
      { type: "reasoning", text: "", redactedData: "ENC" },
    ]);
  });

  it("a text target gets the text without the opaque fields; one without reasoning input gets nothing", () => {
    const messages = history([
      { type: "reasoning", text: "thought", signature: "S" },
      { type: "reasoning", text: "", redactedData: "ENC" },
    ]);
    const text = reasoningForTarget(messages, "ollama/qwen3", "text");
    assert.deepEqual((text.messages[1] as { reasoning?: unknown }).reasoning, [{ type: "reasoning", text: "thought" }]);
    assert.equal(text.dropped, 1);
    const none = reasoningForTarget(messages, "openai/gpt", undefined);
    assert.equal(none.dropped, 2);
    assert.equal("reasoning" in (none.messages[1] as object), false);
  });

  it("a sealing target gets back only what it sealed itself, as it was; another model's, text and signatures it cannot read", () => {
    const messages = history([
      { type: "reasoning", text: "mine", encryptedContent: "E1", producer: "gpt/gpt-5-mini" },
      { type: "reasoning", text: "", encryptedContent: "E2", producer: "gpt/gpt-5" },
      { type: "reasoning", text: "theirs", encryptedContent: "E3", producer: "other/gpt-5-mini" },
      // From a client, its maker unknown: anyone's.
      { type: "reasoning", text: "", encryptedContent: "E4" },
      { type: "reasoning", text: "signed", signature: "S", producer: "gpt/gpt-5-mini" },
      { type: "reasoning", text: "plain" },
    ]);
    const out = reasoningForTarget(messages, "gpt/gpt-5-mini", "sealed");
    // gpt-5's sealed reasoning is named as left out, not sent (the provider sends a model only its own).
    assert.deepEqual((out.messages[1] as { reasoning?: unknown }).reasoning, [
      { type: "reasoning", text: "mine", encryptedContent: "E1", producer: "gpt/gpt-5-mini" },
    ]);
    assert.equal(out.dropped, 5);
  });

  it("returns the same array when no message has reasoning", () => {
    const messages: Message[] = [{ role: "user", content: [{ type: "text", text: "Hi" }] }];
    assert.equal(reasoningForTarget(messages, "claude/x", "signed").messages, messages);
  });
});

describe("ReasoningBlocks and collectChat", () => {
  it("a signature closes a block; redacted blocks stand alone; interleaved thinking is a new block", async () => {
    const events: StreamEvent[] = [
      { type: "start" },
      { type: "reasoning-delta", text: "a" },
      { type: "reasoning-delta", text: "b" },
      { type: "reasoning-signature", signature: "S1" },
      { type: "reasoning-redacted", data: "ENC" },
      { type: "text-delta", text: "x" },
      { type: "reasoning-delta", text: "c" },
      { type: "finish", reason: "stop" },
    ];
    const blocks = new ReasoningBlocks();
    for (const e of events) blocks.push(e);
    assert.deepEqual(blocks.blocks(), [
      { type: "reasoning", text: "ab", signature: "S1" },
      { type: "reasoning", text: "", redactedData: "ENC" },
      { type: "reasoning", text: "c" },
    ]);
    const result = await collectChat(
      (async function* () {
        yield* events;
      })(),
    );
    assert.equal(result.reasoning, "abc");
    assert.equal(result.reasoningBlocks?.length, 3);
  });

  it("sealed reasoning closes its block with its maker; sealed without a summary is a block of its own", () => {
    const blocks = new ReasoningBlocks();
    for (const e of [
      { type: "reasoning-delta", text: "a" },
      { type: "reasoning-encrypted", data: "E1", producer: "gpt/gpt-5-mini" },
      { type: "reasoning-encrypted", data: "E2", producer: "gpt/gpt-5-mini" },
      { type: "reasoning-delta", text: "b" },
    ] satisfies StreamEvent[])
      blocks.push(e);
    assert.deepEqual(blocks.blocks(), [
      { type: "reasoning", text: "a", encryptedContent: "E1", producer: "gpt/gpt-5-mini" },
      { type: "reasoning", text: "", encryptedContent: "E2", producer: "gpt/gpt-5-mini" },
      { type: "reasoning", text: "b" },
    ]);
  });
});

describe("effort and budget", () => {
  it("round-trips each level", () => {
    for (const effort of ["minimal", "low", "medium", "high", "xhigh", "max"] as const)
      assert.equal(effortForBudget(budgetForEffort(effort)), effort);
  });

  it("maps a budget to the level whose budget is nearest (by ratio), not the one below it", () => {
    const cases: [number, string][] = [
      [0, "minimal"],
      [1024, "minimal"],
      [1400, "minimal"],
      [2000, "low"],
      [4000, "low"],
      [5000, "medium"],
      [8000, "medium"],
      [14000, "medium"],
      [16000, "high"],
      [24000, "high"],
      // Claude Code's own budget stays high: xhigh costs an OpenAI model far more.
      [31999, "high"],
      [40000, "xhigh"],
      [56000, "xhigh"],
      [64000, "max"],
      [128000, "max"],
    ];
    for (const [budget, effort] of cases) assert.equal(effortForBudget(budget), effort, String(budget));
  });
});

describe("effortOnWire and unsentEffort", () => {
  const OPENAI = ["minimal", "low", "medium", "high", "xhigh"] as const;
  const OLLAMA = ["low", "medium", "high", "max"] as const;

  it("sends a level the wire has as it is, else the highest below it, else the wire's least", () => {
    assert.equal(effortOnWire("xhigh", OPENAI), "xhigh");
    assert.equal(effortOnWire("max", OPENAI), "xhigh");
    assert.equal(effortOnWire("xhigh", OLLAMA), "high", "never more effort than asked");
    assert.equal(effortOnWire("max", OLLAMA), "max");
    assert.equal(effortOnWire("minimal", OLLAMA), "low");
  });

  it("names only a level the client named that the wire lacks", () => {
    assert.deepEqual(unsentEffort({ enabled: true, effort: "max" }, OPENAI), ["effort max (xhigh sent instead)"]);
    assert.deepEqual(unsentEffort({ enabled: true, effort: "high" }, OPENAI), []);
    // A budget's level is its closest form already; no reasoning asks for no level.
    assert.deepEqual(unsentEffort({ enabled: true, budgetTokens: 100000 }, OPENAI), []);
    assert.deepEqual(unsentEffort({ enabled: false }, OPENAI), []);
    assert.deepEqual(unsentEffort(undefined, OPENAI), []);
  });
});
