/**
 * Closing the server while a background response or a WebSocket turn waits on an upstream that has
 * not answered yet (a cloud slow to start its stream, a local model loading): the close cancels
 * them, as it cuts a client's own HTTP request, instead of waiting out the route's first-token limit;
 * and cancelling a background response in that wait closes its upstream request at once.
 */
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, it } from "node:test";
import OpenAI from "openai";
import WebSocket from "ws";
import { type RunningTandem, startTandem } from "../support/tandem.js";

/** An upstream that takes connections and never answers. */
async function startSilentUpstream(): Promise<{
  url: string;
  connections: () => number;
  closed: () => number;
  close: () => void;
}> {
  const sockets: Socket[] = [];
  let closed = 0;
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => closed++);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/v1`,
    connections: () => sockets.length,
    closed: () => closed,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

const MODEL = "openai/gpt-4o-mini";
let cleanup: (() => void) | undefined;

afterEach(() => cleanup?.());

async function tandemOver(upstream: string): Promise<RunningTandem> {
  // A first-token limit far longer than the test: only a cancel can end the wait.
  return startTandem(
    {
      providers: { openai: { kind: "openai", baseUrl: upstream, apiKeys: ["env:K"], local: false, models: ["gpt-4o-mini"] } },
      routes: { slow: { tiers: [MODEL], retry: { attempts: 1 }, timeouts: { firstTokenMs: 600_000, idleMs: 600_000 } } },
    } as never,
    { env: { K: "sk-upstream" } },
  );
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves true when `promise` settles before the test's own deadline (a hang is a failure, not a slow pass). */
function settlesBefore(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([
    promise.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref()),
  ]);
}

describe("closing the server with loopback turns waiting on their upstream", () => {
  it("cancels a background response's turn", async () => {
    const upstream = await startSilentUpstream();
    const tandem = await tandemOver(upstream.url);
    cleanup = upstream.close;
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const started = await client.responses.create({ model: "slow", input: "Take your time", background: true });
    assert.equal(started.status, "queued");
    await until(() => upstream.connections() === 1, "the turn to reach the upstream");
    assert.ok(await settlesBefore(tandem.close(), 5000), "the server closed without waiting for the upstream");
  });

  it("cancels a WebSocket turn", async () => {
    const upstream = await startSilentUpstream();
    const tandem = await tandemOver(upstream.url);
    cleanup = upstream.close;
    const socket = new WebSocket(`${tandem.url.replace(/^http/, "ws")}/v1/responses`);
    socket.on("error", () => undefined);
    let closeCode: number | undefined;
    socket.on("close", (code) => {
      closeCode = code;
    });
    await new Promise((resolve) => socket.once("open", resolve));
    socket.send(JSON.stringify({ type: "response.create", model: "slow", input: "Take your time" }));
    await until(() => upstream.connections() === 1, "the turn to reach the upstream");
    assert.ok(await settlesBefore(tandem.close(), 5000), "the server closed without waiting for the upstream");
    // The client is told the server is going away (1001), not left with a broken connection (1006).
    await until(() => closeCode !== undefined, "the socket to close");
    assert.equal(closeCode, 1001);
  });

  it("closes the upstream request of a background response cancelled before its upstream answered", async () => {
    const upstream = await startSilentUpstream();
    const tandem = await tandemOver(upstream.url);
    cleanup = () => {
      upstream.close();
      void tandem.close();
    };
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const started = await client.responses.create({ model: "slow", input: "Take your time", background: true });
    await until(() => upstream.connections() === 1, "the turn to reach the upstream");
    assert.equal((await client.responses.cancel(started.id)).status, "cancelled");
    await until(() => upstream.closed() === 1, "the upstream request to be closed");
  });
});
