/**
 * A body over the limits reaches the official SDKs as the limit's error, not as a connection error.
 * The SDKs write the whole body before they read the answer, so a server that answers 413 at once
 * and closes the connection leaves them failing on the write (EPIPE) and retrying the upload. The
 * server is `tandem serve` in a child process: with client and server in one event loop the
 * client's writes finish before the server gets to close, and the failure does not show.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI, { toFile } from "openai";
import WebSocket from "ws";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { spawnServe } from "../support/tandem-serve.js";

const BODY_LIMIT = 200_000;
const FILE_LIMIT = 100_000;
/** About 30 times the limit: far more than the socket buffers hold. */
const HUGE = "a ".repeat(3_000_000);
const MODEL = "up/gpt-4o-mini";

describe("bodies over the limits, through the SDKs", () => {
  let upstream: FakeOpenAIUpstream;
  let child: ChildProcess | undefined;
  let url: string;

  before(async () => {
    upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
    const home = mkdtempSync(join(tmpdir(), "tandem-oversized-"));
    const config = join(home, "tandem.config.yaml");
    writeFileSync(
      config,
      [
        `dataDir: "${join(home, "data")}"`,
        "health: { probeIntervalMs: 0 }",
        `server: { bodyLimit: ${BODY_LIMIT} }`,
        `files: { maxBytes: ${FILE_LIMIT} }`,
        "providers:",
        `  up: { kind: openai, baseUrl: "${upstream.url}", local: false, models: [gpt-4o-mini] }`,
        "",
      ].join("\n"),
    );
    const served = await spawnServe(home, config, randomBytes(32).toString("hex"));
    child = served.child;
    url = served.url;
  });

  after(async () => {
    child?.kill("SIGKILL");
    await upstream?.close();
  });

  it("Anthropic's SDK gets a 413 request_too_large, every time", async () => {
    const client = new Anthropic({ baseURL: url, apiKey: "unused", maxRetries: 0 });
    for (let i = 0; i < 3; i++) {
      const err = await client.messages.create({ model: MODEL, max_tokens: 5, messages: [{ role: "user", content: HUGE }] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof Anthropic.APIError, `${i}: ${String(err)}`);
      assert.equal(err.status, 413, String(err));
      assert.equal((err.error as { error?: { type?: string } }).error?.type, "request_too_large");
    }
  });

  it("OpenAI's SDK gets a 413, every time", async () => {
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 });
    for (let i = 0; i < 3; i++) {
      const err = await client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: HUGE }] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof OpenAI.APIError, `${i}: ${String(err)}`);
      assert.equal(err.status, 413, String(err));
      assert.match(err.message, /server\.bodyLimit/);
    }
  });

  it("ollama-js gets a 413, every time", async () => {
    const client = new Ollama({ host: url });
    for (let i = 0; i < 3; i++) {
      const err = (await client.chat({ model: MODEL, messages: [{ role: "user", content: HUGE }] }).then(
        () => undefined,
        (e: unknown) => e,
      )) as { status_code?: number; message?: string } | undefined;
      assert.equal(err?.status_code, 413, String(err));
      assert.match(String(err?.message), /server\.bodyLimit/);
    }
  });

  it("OpenAI's SDK gets a 413 naming files.maxBytes for a file over it", async () => {
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 });
    const err = await client.files
      .create({ file: await toFile(Buffer.alloc(30 * FILE_LIMIT, 65), "big.txt"), purpose: "user_data" })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof OpenAI.APIError, String(err));
    assert.equal(err.status, 413, String(err));
    assert.match(err.message, /files\.maxBytes/);
  });

  it("a Responses WebSocket message over the limit closes the socket with 1009, not a reset", async () => {
    const socket = new WebSocket(`${url.replace(/^http/, "ws")}/v1/responses`);
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    const errors: Error[] = [];
    socket.on("error", (err) => errors.push(err));
    const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
    socket.send(JSON.stringify({ type: "response.create", model: MODEL, input: HUGE }));
    assert.equal(await closed, 1009);
    assert.deepEqual(
      errors.map((e) => e.message),
      [],
    );
  });
});
