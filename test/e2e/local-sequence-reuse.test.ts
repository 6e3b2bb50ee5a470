/**
 * With two sequences per model (`parallel: 2`), two conversations whose turns alternate each keep
 * their own sequence, so every follow-up turn finds its prompt evaluated (`cached_tokens`): a request
 * that shares only the chat template's first tokens with a held conversation takes the idle sequence
 * instead of overwriting that conversation. On llama-2-tiny-random, one request at a time.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import OpenAI from "openai";
import { sharedModel } from "../support/local-models.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let tandem: RunningTandem;
let openai: OpenAI;

before(async () => {
  tandem = await startTandem({
    providers: {
      local: { kind: "llamacpp", threads: 1, parallel: 2, models: { tiny: { path: sharedModel("llama-2-tiny-random.gguf") } } },
    },
  });
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
});

type Turn = OpenAI.ChatCompletionMessageParam;

/** One more turn of a conversation: its answer is appended, and the prompt's tokens and cached tokens returned. */
async function turn(conversation: Turn[], text: string): Promise<{ prompt: number; cached: number }> {
  conversation.push({ role: "user", content: text });
  const answer = await openai.chat.completions.create({
    model: "local/tiny",
    messages: conversation,
    max_tokens: 8,
    temperature: 0,
  });
  conversation.push({ role: "assistant", content: answer.choices[0]?.message.content ?? "" });
  return { prompt: answer.usage?.prompt_tokens ?? 0, cached: answer.usage?.prompt_tokens_details?.cached_tokens ?? 0 };
}

it("keeps each of two alternating conversations' prompts evaluated in its own sequence", async () => {
  const a: Turn[] = [];
  const b: Turn[] = [];
  const a0 = await turn(a, "Tell me a story about a cat who lived in a big old house.");
  await turn(b, "What is the weather like on the coast in the spring?");
  const a1 = await turn(a, "And then what happened to the cat?");
  const b1 = await turn(b, "And in the autumn, is it windy?");
  const a2 = await turn(a, "How does the story end?");
  // Each follow-up holds at least the whole prompt of the conversation's turn before.
  assert.ok(a1.cached >= a0.prompt, `a1 cached ${a1.cached} of ${a1.prompt}; a0 prompt ${a0.prompt}`);
  assert.ok(b1.cached > b1.prompt / 2, `b1 cached ${b1.cached} of ${b1.prompt}`);
  assert.ok(a2.cached >= a1.prompt, `a2 cached ${a2.cached} of ${a2.prompt}; a1 prompt ${a1.prompt}`);
});

it("keeps a conversation's prompt when an unrelated request comes between two of its turns", async () => {
  const c: Turn[] = [];
  await turn(c, "Write about a boy and his red kite on a windy hill.");
  const c1 = await turn(c, "What colour was the kite?");
  await turn([], "Tom had a ball.");
  const c2 = await turn(c, "Where did the boy fly it?");
  assert.ok(c2.cached >= c1.prompt, `c2 cached ${c2.cached} of ${c2.prompt}; c1 prompt ${c1.prompt}`);
});
