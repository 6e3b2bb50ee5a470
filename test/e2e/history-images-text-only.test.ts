/**
 * An image in an earlier turn of a stored conversation (a `previous_response_id` chain, a
 * `conversation`) does not lock the conversation out of targets that read text only (the embedded
 * engine, a model configured with `vision: false`): such a target is given the conversation without
 * the earlier image, named in x-tandem-warnings, and a route no longer skips it for that image.
 * An image of the turn's own input is still refused there (a route moves on to a target that sees),
 * and so is one in a chat client's own request, which is that request's input whatever its place.
 * Before, every later turn of such a conversation was a 400 "reads text only" on those targets.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { makeModelDir, writeChatModel } from "../support/gguf/index.js";
import { loadLocalModel, PATIENT_TIMEOUTS, type RunningTandem, startTandem } from "../support/tandem.js";

/** A 1x1 PNG. */
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const DATA_URL = `data:image/png;base64,${PNG}`;
/** The image may leave the machine: the subject here is the target's eyes, not privacy. */
const PUBLIC = { headers: { "x-tandem-sensitivity": "public" } };

let oa: FakeOpenAIUpstream;
let summarizer: FakeOpenAIUpstream;
let tandem: RunningTandem;
let client: OpenAI;
let cleanup: () => Promise<void>;

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  await writeChatModel(join(made.dir, "chat.gguf"));
  [oa, summarizer] = await Promise.all([startFakeOpenAI({ models: ["seeing", "blind"] }), startFakeOpenAI({ models: ["s"] })]);
  tandem = await startTandem({
    providers: {
      local: { kind: "llamacpp", threads: 1, models: { chat: { path: join(made.dir, "chat.gguf"), contextSize: 512 } } },
      oa: {
        kind: "openai",
        baseUrl: oa.url,
        models: { seeing: {}, blind: { contextWindow: 400, capabilities: { vision: false } } },
      },
      sum: { kind: "openai", baseUrl: summarizer.url, models: ["s"] },
    },
    routes: {
      "local-first": { tiers: ["local/chat", "oa/seeing"], timeouts: PATIENT_TIMEOUTS },
      "local-only": { tiers: ["local/chat"], timeouts: PATIENT_TIMEOUTS },
      "blind-summarized": { tiers: ["oa/blind"], summarizer: "sum/s" },
    },
  });
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  await loadLocalModel(tandem, "local/chat");
});

after(async () => {
  await tandem?.close();
  await Promise.all([oa?.close(), summarizer?.close()]);
  await cleanup?.();
});

beforeEach(() => {
  oa.requests.length = 0;
  oa.script(() => ({ kind: "text", text: "A red dot." }));
  summarizer.script(() => ({ kind: "text", text: "The user showed a picture of a red dot." }));
});

/** A first turn with an image, answered by a target that sees: its id. */
async function turnWithImage(part: "input_image" | "input_file"): Promise<string> {
  const image =
    part === "input_image"
      ? { type: "input_image" as const, image_url: DATA_URL, detail: "auto" as const }
      : { type: "input_file" as const, filename: "p.png", file_data: DATA_URL };
  const first = await client.responses.create(
    {
      model: "oa/seeing",
      input: [{ role: "user", content: [{ type: "input_text", text: "What is this?" }, image] }],
    },
    PUBLIC,
  );
  assert.equal(first.status, "completed");
  assert.match(JSON.stringify(oa.requests.at(-1)?.body), /image_url/, "the first turn's target saw the image");
  return first.id;
}

type WireMessage = { role: string; content?: unknown };
const sentMessages = (): WireMessage[] => ((oa.requests.at(-1)?.body ?? {}) as { messages?: WireMessage[] }).messages ?? [];

describe("an earlier turn's image, for a target that reads text only", () => {
  for (const part of ["input_image", "input_file"] as const) {
    it(`the local engine continues a chain whose first turn had an image (${part}), naming it in the warnings`, async () => {
      const previous = await turnWithImage(part);
      for (const truncation of ["disabled", "auto"] as const) {
        const { data, response } = await client.responses
          .create({ model: "local/chat", previous_response_id: previous, input: "go on", max_output_tokens: 16, truncation })
          .withResponse();
        assert.equal(data.status, "completed", truncation);
        assert.equal(data.output_text, "Hello from tandem.");
        assert.match(response.headers.get("x-tandem-warnings") ?? "", /an earlier turn's image not sent to local\/chat/);
      }
    });
  }

  it("a model configured with vision: false is sent the earlier turns without the image, the text kept", async () => {
    const previous = await turnWithImage("input_image");
    const { data, response } = await client.responses
      .create({ model: "oa/blind", previous_response_id: previous, input: "And its colour?" }, PUBLIC)
      .withResponse();
    assert.equal(data.status, "completed");
    const sent = sentMessages();
    assert.deepEqual(
      sent.map((m) => m.role),
      ["user", "assistant", "user"],
    );
    assert.doesNotMatch(JSON.stringify(sent), /image_url/);
    assert.match(JSON.stringify(sent[0]?.content), /What is this\?/);
    assert.match(response.headers.get("x-tandem-warnings") ?? "", /an earlier turn's image not sent to oa\/blind/);
  });

  it("an image of the turn's own input is still refused by the local engine", async () => {
    const previous = await turnWithImage("input_image");
    const err = await client.responses
      .create({
        model: "local/chat",
        previous_response_id: previous,
        input: [{ role: "user", content: [{ type: "input_image", image_url: DATA_URL, detail: "auto" }] }],
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof OpenAI.APIError, String(err));
    assert.equal(err.status, 400);
    assert.match(err.message, /local\/chat reads text only/);
  });

  it("a route does not skip the local target for an earlier image, and still does for the turn's own", async () => {
    const previous = await turnWithImage("input_image");
    const text = await client.responses
      .create({ model: "local-first", previous_response_id: previous, input: "go on", max_output_tokens: 16 })
      .withResponse();
    assert.equal(text.response.headers.get("x-tandem-target"), "local/chat");
    assert.equal(text.response.headers.get("x-tandem-degraded"), "false");
    assert.match(text.response.headers.get("x-tandem-warnings") ?? "", /an earlier turn's image not sent to local\/chat/);

    // A route whose only target reads text only answers too.
    const only = await client.responses
      .create({ model: "local-only", previous_response_id: previous, input: "go on", max_output_tokens: 16 })
      .withResponse();
    assert.equal(only.data.output_text, "Hello from tandem.");

    const image = await client.responses
      .create(
        {
          model: "local-first",
          previous_response_id: previous,
          input: [{ role: "user", content: [{ type: "input_image", image_url: DATA_URL, detail: "auto" }] }],
        },
        PUBLIC,
      )
      .withResponse();
    assert.equal(image.response.headers.get("x-tandem-target"), "oa/seeing");
    assert.match(image.response.headers.get("x-tandem-degraded") ?? "", /local\/chat: unsuitable .*reads text only/);
    // The target that sees gets both images.
    assert.equal(JSON.stringify(sentMessages()).match(/"type":"image_url"/g)?.length, 2);
  });

  it("a summarized cut of a stored conversation covers the turn whose image was left out", async () => {
    const OLD = "Let us talk about pictures. ".repeat(60);
    const conversation = await client.conversations.create(
      {
        items: [
          { type: "message", role: "user", content: OLD },
          { type: "message", role: "assistant", content: "Sure." },
          {
            type: "message",
            role: "user",
            content: [
              { type: "input_text", text: OLD },
              { type: "input_image", image_url: DATA_URL, detail: "auto" },
            ],
          },
        ],
      },
      PUBLIC,
    );
    const { data, response } = await client.responses
      .create({ model: "blind-summarized", conversation: conversation.id, input: "What was it?", truncation: "auto" }, PUBLIC)
      .withResponse();
    assert.equal(data.status, "completed");
    assert.match(response.headers.get("x-tandem-degraded") ?? "", /history summarized by sum\/s: 3 older message\(s\)/);
    // The summary stands for every turn left out, the one with the image included: it is stored after it.
    const items = await client.conversations.items.list(conversation.id, { order: "asc" });
    assert.deepEqual(
      items.data.map((i) => i.type),
      ["message", "message", "message", "compaction", "message", "message"],
    );
    // The next turn is given the summary in place of all three, the summarizer not asked again.
    const asked = summarizer.requests.length;
    const next = await client.responses
      .create({ model: "blind-summarized", conversation: conversation.id, input: "And then?", truncation: "auto" }, PUBLIC)
      .withResponse();
    assert.equal(next.data.status, "completed");
    assert.equal(summarizer.requests.length, asked);
    // The substitution is said: the stored summary stands for the three (its summarizer is not asked).
    assert.match(
      next.response.headers.get("x-tandem-degraded") ?? "",
      /history summarized by sum\/s: 3 older message\(s\) \(stored summary;/,
    );
    assert.deepEqual(
      sentMessages().map((m) => m.role),
      ["system", "user", "assistant", "user"],
    );
    assert.doesNotMatch(JSON.stringify(sentMessages()), /Let us talk about pictures/);
  });
});

describe("an image in a chat client's own request, for the local engine", () => {
  it("is refused wherever it stands in the messages: they are the request's own input", async () => {
    const err = await client.chat.completions
      .create({
        model: "local/chat",
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "What is this?" },
              { type: "image_url", image_url: { url: DATA_URL } },
            ],
          },
          { role: "assistant", content: "A red dot." },
          { role: "user", content: "go on" },
        ],
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof OpenAI.APIError, String(err));
    assert.equal(err.status, 400);
    assert.match(err.message, /local\/chat reads text only/);
  });
});
