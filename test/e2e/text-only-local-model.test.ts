/**
 * An image sent to a local model that reads text only can never succeed there: it is a 400
 * `invalid_request` in each client's dialect naming why (never a 503 or 529 that SDKs and agents
 * retry), the model is not loaded to refuse it, and it counts nothing against the model (its
 * breaker, its error rate). A route whose every target reads text only answers the same 400,
 * listing each target's refusal.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { makeModelDir, writeChatModel } from "../support/gguf/index.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

/** A 1x1 PNG. */
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

let tandem: RunningTandem;
let cleanup: () => Promise<void>;

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  await writeChatModel(join(made.dir, "chat.gguf"));
  await writeChatModel(join(made.dir, "other.gguf"));
  tandem = await startTandem({
    providers: {
      local: {
        kind: "llamacpp",
        threads: 1,
        models: { chat: { path: join(made.dir, "chat.gguf") }, other: { path: join(made.dir, "other.gguf") } },
      },
    },
    routes: {
      "text-only": { tiers: ["local/chat", "local/other"] },
      "text-only-notice": { tiers: ["local/chat", "local/other"], onExhausted: "notice" },
    },
    breaker: { failureThreshold: 2, cooldownMs: 60_000 },
  });
});

after(async () => {
  await tandem?.close();
  await cleanup?.();
});

async function targetStatus(target: string): Promise<{ breaker: string; failures: number } | undefined> {
  const body = (await (await fetch(`${tandem.url}/v1/status`)).json()) as {
    targets: { target: string; breaker: string; failures: number }[];
  };
  return body.targets.find((t) => t.target === target);
}

describe("an image for a text-only local model", () => {
  it("Anthropic: a 400 invalid_request_error naming why, which the SDK does not retry", async () => {
    const client = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
    const err = await client.messages
      .create({
        model: "local/chat",
        max_tokens: 5,
        messages: [
          {
            role: "user",
            content: [
              { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
              { type: "text", text: "what" },
            ],
          },
        ],
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof Anthropic.APIError, String(err));
    assert.equal(err.status, 400, err.message);
    assert.equal((err.error as { error?: { type?: string } }).error?.type, "invalid_request_error");
    assert.match(err.message, /local\/chat reads text only/);
    assert.equal(err.headers?.get("x-should-retry"), "false");
  });

  it("Ollama: /api/chat with images is a 400 naming why", async () => {
    const client = new Ollama({ host: tandem.url });
    const err = (await client.chat({ model: "local/chat", messages: [{ role: "user", content: "what", images: [PNG] }] }).then(
      () => undefined,
      (e: unknown) => e,
    )) as { status_code?: number; message?: string } | undefined;
    assert.equal(err?.status_code, 400, String(err));
    assert.match(String(err?.message), /local\/chat reads text only/);
  });

  it("OpenAI, on a route whose every target reads text only: a 400 listing each one's refusal, notice or not", async () => {
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    for (const model of ["text-only", "text-only-notice"]) {
      const err = await client.chat.completions
        .create({
          model,
          messages: [
            {
              role: "user",
              content: [
                { type: "text", text: "what" },
                { type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } },
              ],
            },
          ],
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(err instanceof OpenAI.APIError, `${model}: ${String(err)}`);
      assert.equal(err.status, 400, err.message);
      assert.equal(err.type, "invalid_request_error");
      assert.match(
        err.message,
        new RegExp(
          `^400 No target of '${model}' can take this request\\. Attempts: local/chat: .*reads text only.*; local/other: .*reads text only`,
        ),
      );
    }
  });

  it("loads no model to refuse it, and counts nothing against the model: its breaker stays closed", async () => {
    const ps = (await (await fetch(`${tandem.url}/api/ps`)).json()) as { models: unknown[] };
    assert.deepEqual(ps.models, []);
    for (const target of ["local/chat", "local/other"]) {
      const status = await targetStatus(target);
      assert.equal(status?.breaker, "closed", `${target}: ${JSON.stringify(status)}`);
      assert.equal(status?.failures, 0, `${target}: ${JSON.stringify(status)}`);
    }
    // And the model still answers text.
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const ok = await client.chat.completions.create({ model: "local/chat", messages: [{ role: "user", content: "Hi" }] });
    assert.equal(ok.choices[0]?.message.content, "Hello from tandem.");
  });
});
