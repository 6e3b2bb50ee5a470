/**
 * Chat completions' custom tools and `n` > 1 on the embedded engine (a tiny model written by the
 * test, test/support/gguf): the custom tool is offered as a function of one string, `input`, the
 * model's call of it comes back as a custom tool call, whole and streamed, and the call with its
 * result in the history lets the model answer (the stream helper's final message); several choices
 * are fanned out, one request each, and come back as one answer. The other target kinds:
 * chat-custom-tools.test.ts and chat-choices.test.ts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { makeModelDir, writeToolCallModel } from "../support/gguf/index.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const PATCH = "*** Begin Patch\n*** Add File: a.txt\n*** End Patch";
const APPLY_PATCH = {
  type: "custom",
  custom: { name: "apply_patch", description: "Edit files.", format: { type: "text" } },
} as const satisfies OpenAI.ChatCompletionCustomTool;

let tandem: RunningTandem;
let cleanup: () => Promise<void>;
let client: OpenAI;

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  await writeToolCallModel(join(made.dir, "patcher.gguf"), {
    functionName: "apply_patch",
    arguments: { input: PATCH },
    finalAnswer: "Patched.",
  });
  tandem = await startTandem({
    providers: {
      local: { kind: "llamacpp", threads: 1, models: { patcher: { path: join(made.dir, "patcher.gguf"), contextSize: 1024 } } },
    },
  });
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await cleanup?.();
});

const ask: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Add a.txt" }];

describe("chat completions' custom tools on the local engine", () => {
  it("answers the model's call as a custom tool call, whole", async () => {
    const answer = await client.chat.completions.create({
      model: "local/patcher",
      messages: ask,
      tools: [APPLY_PATCH],
      temperature: 0,
    });
    const call = answer.choices[0]?.message.tool_calls?.[0];
    assert.ok(call?.type === "custom", JSON.stringify(answer.choices[0]?.message));
    assert.deepEqual(call.custom, { name: "apply_patch", input: PATCH });
    assert.equal(answer.choices[0]?.finish_reason, "tool_calls");
  });

  it("streams it: id, type and name first, then the input", async () => {
    const stream = await client.chat.completions.create({
      model: "local/patcher",
      messages: ask,
      tools: [APPLY_PATCH],
      temperature: 0,
      stream: true,
    });
    let input = "";
    let type: string | undefined;
    let name: string | undefined;
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const piece of chunk.choices[0]?.delta.tool_calls ?? []) {
        const delta = piece as typeof piece & { custom?: { name?: string; input?: string } };
        assert.equal(delta.function, undefined);
        type ??= delta.type;
        name ??= delta.custom?.name;
        input += delta.custom?.input ?? "";
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(type, "custom");
    assert.equal(name, "apply_patch");
    assert.equal(input, PATCH);
    assert.equal(finish, "tool_calls");
  });

  it("takes the call and its result back, and the model answers (the stream helper's final message)", async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      ...ask,
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "call_1", type: "custom", custom: { name: "apply_patch", input: PATCH } }],
      },
      { role: "tool", tool_call_id: "call_1", content: "Done." },
    ];
    const final = await client.chat.completions
      .stream({ model: "local/patcher", messages, tools: [APPLY_PATCH], temperature: 0 })
      .finalChatCompletion();
    assert.equal(final.choices[0]?.message.content, "Patched.");
  });

  it("n: 2: every choice, whole and streamed (each its own request to the engine)", async () => {
    const whole = await client.chat.completions.create({
      model: "local/patcher",
      messages: ask,
      tools: [APPLY_PATCH],
      temperature: 0,
      n: 2,
    });
    assert.deepEqual(
      whole.choices.map((c) => [c.index, c.finish_reason, c.message.tool_calls?.[0]?.type]),
      [
        [0, "tool_calls", "custom"],
        [1, "tool_calls", "custom"],
      ],
    );
    const final = await client.chat.completions
      .stream({ model: "local/patcher", messages: [{ role: "user", content: "Hi" }], temperature: 0, n: 2 })
      .finalChatCompletion();
    assert.equal(final.choices.length, 2);
    for (const choice of final.choices) assert.ok(choice.finish_reason, JSON.stringify(choice));
    assert.deepEqual(
      final.choices.map((c) => c.index),
      [0, 1],
    );
  });
});
