/**
 * Bodies over 1 MiB take the parse-in-slices path into tandem and the serialise-in-pieces path out
 * to the upstream. Through each dialect, with the official clients, a long text (with characters of
 * every UTF-8 width and escapes), many messages and a large base64 image must reach the upstream
 * exactly as sent; a large body that is broken or nested too deeply is the same 400 as a small one.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { MAX_JSON_DEPTH } from "../../src/server/json-body.js";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOllamaUpstream, startFakeOllama } from "../support/fake-ollama-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { RecordedRequest } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

/** About 3 MB of text: ASCII, 2-, 3- and 4-byte characters, quotes, backslashes, brackets, newlines. */
const LONG_TEXT = 'The report: "revenue" grew [12%] {flat} \\ é 日本 😀\n'.repeat(60_000);
/** 1,501 messages of about 1.5 KB each, alternating roles, the last from the user. */
const MANY = Array.from({ length: 1501 }, (_, i) => ({
  role: i % 2 === 0 ? ("user" as const) : ("assistant" as const),
  content: `message ${i}: ${"lorem ipsum dolor sit amet, ".repeat(55)}`,
}));
/** A 2.5 MB base64 "photo". */
const IMAGE = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(1_900_000, "photo-bytes-")]).toString("base64");

/** Equal, without printing megabytes when not. */
function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function lastPost(requests: RecordedRequest[]): Record<string, unknown> {
  const posts = requests.filter((r) => r.method === "POST");
  return posts[posts.length - 1]?.body as Record<string, unknown>;
}

describe("large request bodies, end to end", () => {
  let openaiUp: FakeOpenAIUpstream;
  let anthropicUp: FakeAnthropic;
  let ollamaUp: FakeOllamaUpstream;
  let tandem: RunningTandem;

  before(async () => {
    [openaiUp, anthropicUp, ollamaUp] = await Promise.all([
      startFakeOpenAI({ models: ["gpt-4o-mini"] }),
      startFakeAnthropic({ models: ["claude-sonnet-4-5"] }),
      startFakeOllama({ models: ["llama3.2:latest"] }),
    ]);
    tandem = await startTandem(
      {
        providers: {
          up: { kind: "openai", baseUrl: openaiUp.url, apiKeys: ["env:UP_KEY"] },
          // A window that holds the 3 MB text: Claude's own 200,000 tokens would (rightly) refuse it
          // before it is sent, and this test is about the bytes reaching the upstream.
          claude: {
            kind: "anthropic",
            baseUrl: anthropicUp.url,
            apiKeys: ["env:UP_KEY"],
            models: { "claude-sonnet-4-5": { contextWindow: 10_000_000 } },
          },
          ol: { kind: "ollama", baseUrl: ollamaUp.url },
        },
      },
      { env: { UP_KEY: "sk-upstream" } },
    );
  });

  after(async () => {
    await tandem?.close();
    await Promise.all([openaiUp?.close(), anthropicUp?.close(), ollamaUp?.close()]);
  });

  it("OpenAI dialect: a long text, many messages and a large image reach an OpenAI upstream intact", async () => {
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const model = "up/gpt-4o-mini";
    await client.chat.completions.create({ model, messages: [{ role: "user", content: LONG_TEXT }] });
    let sent = lastPost(openaiUp.requests).messages as { content: unknown }[];
    assert.ok(sent.at(-1)?.content === LONG_TEXT);

    await client.chat.completions.create({ model, messages: MANY });
    sent = lastPost(openaiUp.requests).messages as { content: unknown }[];
    assert.ok(
      same(
        sent.map((m) => m.content),
        MANY.map((m) => m.content),
      ),
    );

    const url = `data:image/jpeg;base64,${IMAGE}`;
    await client.chat.completions.create({
      model,
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "what is it?" },
            { type: "image_url", image_url: { url } },
          ],
        },
      ],
    });
    const parts = (lastPost(openaiUp.requests).messages as { content: { image_url?: { url: string } }[] }[]).at(-1)?.content;
    assert.ok(parts?.find((p) => p.image_url)?.image_url?.url === url);
  });

  it("Anthropic dialect: a long text, many messages and a large image reach an Anthropic upstream intact", async () => {
    const client = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
    const model = "claude/claude-sonnet-4-5";
    await client.messages.create({ model, max_tokens: 16, messages: [{ role: "user", content: LONG_TEXT }] });
    const text = (body: Record<string, unknown>) =>
      (body.messages as { content: string | { text?: string }[] }[]).map((m) =>
        typeof m.content === "string" ? m.content : m.content.map((c) => c.text ?? "").join(""),
      );
    assert.ok(same(text(lastPost(anthropicUp.requests)), [LONG_TEXT]));

    await client.messages.create({ model, max_tokens: 16, messages: MANY });
    // The model's window is known, so the oldest messages may be left out to fit it: the rest is intact.
    const got = text(lastPost(anthropicUp.requests));
    const want = MANY.map((m) => m.content).slice(-got.length);
    const differs = got.findIndex((g, i) => g !== want[i]);
    assert.ok(
      got.length > 100 && differs === -1,
      `${got.length} sent; #${differs}: ${JSON.stringify(got[differs])?.slice(-120)} / ${JSON.stringify(want[differs])?.slice(-120)}`,
    );

    await client.messages.create({
      model,
      max_tokens: 16,
      messages: [
        {
          role: "user",
          content: [
            { type: "image", source: { type: "base64", media_type: "image/jpeg", data: IMAGE } },
            { type: "text", text: "what is it?" },
          ],
        },
      ],
    });
    const blocks = (lastPost(anthropicUp.requests).messages as { content: { source?: { data: string } }[] }[]).at(-1)?.content;
    assert.ok(blocks?.find((b) => b.source)?.source?.data === IMAGE);
  });

  it("Ollama dialect: a long text, many messages and a large image reach an Ollama upstream intact", async () => {
    const ollama = new Ollama({ host: tandem.url });
    const model = "ol/llama3.2:latest";
    await ollama.chat({ model, messages: [{ role: "user", content: LONG_TEXT }] });
    let sent = lastPost(ollamaUp.requests).messages as { content: string; images?: string[] }[];
    assert.ok(sent.at(-1)?.content === LONG_TEXT);

    await ollama.chat({ model, messages: MANY });
    sent = lastPost(ollamaUp.requests).messages as { content: string }[];
    assert.ok(
      same(
        sent.map((m) => m.content),
        MANY.map((m) => m.content),
      ),
    );

    await ollama.chat({ model, messages: [{ role: "user", content: "what is it?", images: [IMAGE] }] });
    sent = lastPost(ollamaUp.requests).messages as { content: string; images?: string[] }[];
    assert.ok(same(sent.at(-1)?.images, [IMAGE]));
  });

  it("reads a large body sent without a length (chunked) as one sent with it", async () => {
    const body = JSON.stringify({ model: "up/gpt-4o-mini", messages: [{ role: "user", content: LONG_TEXT }] });
    const pieces = (async function* () {
      const bytes = Buffer.from(body);
      for (let at = 0; at < bytes.length; at += 100_001) yield bytes.subarray(at, at + 100_001);
    })();
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: pieces,
      duplex: "half",
    } as unknown as RequestInit);
    assert.equal(res.status, 200, await res.clone().text());
    await res.arrayBuffer();
    assert.ok((lastPost(openaiUp.requests).messages as { content: unknown }[]).at(-1)?.content === LONG_TEXT);
  });

  it("answers a large broken or too deeply nested body with the same 400 as a small one", async () => {
    const before = openaiUp.requests.length;
    const post = async (body: string) => {
      const res = await fetch(`${tandem.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      return { status: res.status, body: (await res.json()) as { error: { type: string; message: string; param?: string } } };
    };
    const good = JSON.stringify({ model: "up/gpt-4o-mini", messages: MANY });
    for (const broken of [good.slice(0, -1), good.replace('"content"', '"content" "'), `${good}x`]) {
      const res = await post(broken);
      assert.equal(res.status, 400);
      assert.equal(res.body.error.type, "invalid_request_error");
      const small = await post(broken.length > 100 ? "{" : broken);
      assert.equal(res.body.error.message, small.body.error.message);
    }
    const deep = JSON.stringify({ model: "up/gpt-4o-mini", messages: [...MANY, { role: "user", content: "@HOLE@" }] }).replace(
      '"@HOLE@"',
      `${"[".repeat(MAX_JSON_DEPTH + 5)}${"]".repeat(MAX_JSON_DEPTH + 5)}`,
    );
    const res = await post(deep);
    assert.equal(res.status, 400);
    assert.ok(res.body.error.message.includes(`'messages[${MANY.length}].content`), res.body.error.message);
    assert.equal(openaiUp.requests.length, before, "nothing reached the upstream");
  });
});
