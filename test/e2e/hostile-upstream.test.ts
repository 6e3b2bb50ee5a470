/**
 * Upstreams that break HTTP itself, behind each wire's same-wire path (OpenAI chat, Responses,
 * Anthropic Messages, Ollama chat): a port that speaks something else, broken chunked framing. The
 * client gets the upstream's failure in its own dialect (502 naming the target), never tandem's
 * "internal error" 500, and a route with another tier answers from it.
 */
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { createServer, type Server, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

/** A TCP server that answers every request with what the test sets (no HTTP of its own). */
let answer: (socket: Socket) => void = (socket) => socket.end();
let raw: Server;
let backup: FakeOpenAIUpstream;
let tandem: RunningTandem;

const WIRES = [
  { wire: "openai chat", path: "/v1/chat/completions", route: "oa", body: { messages: [{ role: "user", content: "Hi" }] } },
  { wire: "responses", path: "/v1/responses", route: "oar", body: { input: "Hi", store: false } },
  { wire: "anthropic", path: "/v1/messages", route: "an", body: { max_tokens: 10, messages: [{ role: "user", content: "Hi" }] } },
  { wire: "ollama", path: "/api/chat", route: "ol", body: { messages: [{ role: "user", content: "Hi" }] } },
] as const;

/** The dialect's error message, whatever its shape. */
function messageOf(dialect: (typeof WIRES)[number]["wire"], json: { error?: unknown }): unknown {
  if (dialect === "ollama") return json.error;
  return (json.error as { message?: unknown } | undefined)?.message;
}

before(async () => {
  raw = createServer((socket) => {
    socket.on("error", () => {});
    socket.once("data", () => answer(socket));
  });
  await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve));
  backup = await startFakeOpenAI({ models: ["m"] });
  backup.script(() => ({ kind: "text", text: "from the backup" }));
  const url = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
  const models = { m: { id: "up-model" } };
  const once = { retry: { attempts: 1 } };
  tandem = await startTandem({
    providers: {
      oa: { kind: "openai", baseUrl: `${url}/v1`, models },
      oar: { kind: "openai", baseUrl: `${url}/v1`, responses: true, models },
      an: { kind: "anthropic", baseUrl: url, models },
      ol: { kind: "ollama", baseUrl: url, models },
      backup: { kind: "openai", baseUrl: backup.url, models: ["m"] },
    },
    routes: {
      oa: { tiers: ["oa/m"], ...once },
      oar: { tiers: ["oar/m"], ...once },
      an: { tiers: ["an/m"], ...once },
      ol: { tiers: ["ol/m"], ...once },
      "oa-then-backup": { tiers: ["oa/m", "backup/m"], ...once },
    },
  });
});

after(async () => {
  await tandem?.close();
  await backup?.close();
  raw?.close();
});

describe("an upstream that breaks HTTP", () => {
  const cases: Record<string, (socket: Socket) => void> = {
    "speaks something else (an SSH banner)": (socket) => socket.end("SSH-2.0-OpenSSH_9.6\r\n"),
    "breaks its chunked framing": (socket) =>
      socket.end("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\nzz\r\ngarbage\r\n"),
  };
  for (const [what, reply] of Object.entries(cases)) {
    it(`${what}: a 502 in the client's dialect naming the target, streamed and not`, async () => {
      answer = reply;
      for (const { wire, path, route, body } of WIRES) {
        for (const stream of [true, false]) {
          const res = await fetch(`${tandem.url}${path}`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ model: route, stream, ...body }),
          });
          const json = (await res.json()) as { error?: unknown };
          const where = `${wire} ${stream ? "streamed" : "whole"}: ${JSON.stringify(json)}`;
          assert.equal(res.status, 502, where);
          assert.match(String(messageOf(wire, json)), new RegExp(`^${route}(/up-model)?: `), where);
          assert.doesNotMatch(String(messageOf(wire, json)), /internal error/i, where);
        }
      }
    });
  }

  it("is left for the next tier", async () => {
    answer = cases["speaks something else (an SSH banner)"] as (socket: Socket) => void;
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "oa-then-backup", messages: [{ role: "user", content: "Hi" }] }),
    });
    const json = (await res.json()) as { choices: { message: { content: string } }[] };
    assert.equal(res.status, 200);
    assert.equal(json.choices[0]?.message.content, "from the backup");
    assert.match(res.headers.get("x-tandem-degraded") ?? "", /oa\/m: upstream_error/);
  });
});
