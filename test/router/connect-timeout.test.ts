/**
 * A route's timeouts.connectMs bounds establishing the upstream connection (TCP and TLS), so an
 * upstream that accepts and then says nothing is failed over at once, long before the first-token limit.
 */
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

describe("route connect limit", () => {
  let silent: Server;
  const sockets: Socket[] = [];
  let healthy: FakeUpstream;
  let tandem: RunningTandem;

  before(async () => {
    // Accepts TCP and never answers the TLS handshake: the connection is never established.
    silent = createServer((socket) => {
      sockets.push(socket);
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as { port: number }).port;
    healthy = await startFakeOpenAI({ models: ["m"] });
    tandem = await startTandem({
      providers: {
        mute: { kind: "openai", baseUrl: `https://127.0.0.1:${port}/v1`, models: ["m"] },
        up: { kind: "openai", baseUrl: healthy.url, models: ["m"] },
      },
      routes: {
        quick: {
          tiers: ["mute/m", "up/m"],
          retry: { attempts: 1 },
          timeouts: { connectMs: 300, firstTokenMs: 8000 },
        },
      },
    });
  });

  after(async () => {
    await tandem?.close();
    await healthy?.close();
    for (const s of sockets) s.destroy();
    silent?.close();
  });

  it("fails a connection over after connectMs, not after the first-token limit", async () => {
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
    const { data, response } = await client.chat.completions
      .create({ model: "quick", messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    assert.equal(data.choices[0]?.message.content, "Hello from openai");
    assert.equal(response.headers.get("x-tandem-target"), "up/m");
    const degraded = response.headers.get("x-tandem-degraded") ?? "";
    assert.match(degraded, /mute\/m: timeout/);
    // The connect limit (300 ms) decided, not the first-token limit (8 s): the attempt's reason says which.
    assert.match(degraded, /connect/i);
    assert.doesNotMatch(degraded, /no first token/);
  });
});
