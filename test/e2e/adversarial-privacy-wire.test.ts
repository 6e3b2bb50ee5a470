/**
 * Adversarial privacy pass, state a client carries in a form privacy cannot read: Ollama's
 * `/api/generate` `context`, the token ids of an earlier exchange (its prompt and answer) that an
 * Ollama client sends back to continue it. On the same-wire path the body goes as the client sent
 * it, so a cloud Ollama upstream would be given those ids and read the earlier (possibly private)
 * conversation back; they must count as content classification cannot read, as an image does.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { Ollama } from "ollama";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let cloud: ScriptedUpstream;
let home: ScriptedUpstream;
let tandem: RunningTandem;
let client: Ollama;

/** Token ids as an Ollama answer's `context` holds them: the earlier prompt and answer, encoded. */
const CONTEXT = [128006, 882, 128007, 271, 3923, 374, 856, 6596, 2082, 30, 128009, 128006, 78191, 128007, 271];

before(async () => {
  [cloud, home] = await Promise.all([startScriptedUpstream(), startScriptedUpstream()]);
  const fast = { retry: { attempts: 1, baseMs: 0, maxMs: 0 }, timeouts: { firstTokenMs: 5000, idleMs: 5000 } };
  tandem = await startTandem({
    privacy: { default: "local-only" },
    providers: {
      cloud: { kind: "ollama", baseUrl: cloud.url, local: false, models: { llama: { id: "llama3.2:latest" } } },
      home: { kind: "ollama", baseUrl: home.url, local: true, models: { llama: { id: "llama3.2:latest" } } },
    },
    routes: {
      "cloud-only": { tiers: ["cloud/llama"], privacy: "local-only", ...fast },
      "home-first": { tiers: ["home/llama", "cloud/llama"], privacy: "local-only", ...fast },
      "cloud-redact": { tiers: ["cloud/llama"], privacy: "redact", ...fast },
    },
  });
  client = new Ollama({ host: tandem.url });
});

after(async () => {
  await tandem?.close();
  await Promise.all([cloud?.close(), home?.close()]);
});

/** /api/generate as Ollama answers it whole. */
const ANSWER = {
  model: "llama3.2:latest",
  created_at: "2026-01-01T00:00:00Z",
  response: "Hello from ollama",
  done: true,
  done_reason: "stop",
  context: [1, 2, 3],
};

beforeEach(() => {
  cloud.clear();
  home.clear();
  cloud.script(() => ({ kind: "json", body: ANSWER }));
  home.script(() => ({ kind: "json", status: 500, body: { error: "local engine down" } }));
});

describe("Ollama /api/generate context (an earlier exchange as token ids)", () => {
  it("is not sent to a cloud Ollama on a local-only route: the request is refused", async () => {
    await assert.rejects(
      client.generate({ model: "cloud-only", prompt: "And then?", context: CONTEXT, stream: false }),
      (err: unknown) => {
        assert.equal((err as { status_code?: number }).status_code, 403, String(err));
        assert.match(String(err), /cannot be read/);
        return true;
      },
    );
    assert.equal(cloud.requests.length, 0, "the cloud upstream was sent the context");
  });

  it("does not fail over to a cloud Ollama when the local target fails", async () => {
    await assert.rejects(client.generate({ model: "home-first", prompt: "And then?", context: CONTEXT, stream: false }));
    assert.equal(home.requests.length, 1, "the local target was tried");
    assert.equal(cloud.requests.length, 0, "the cloud upstream was sent the context");
  });

  it("cannot be redacted, so a redacting route keeps it on this machine", async () => {
    await assert.rejects(client.generate({ model: "cloud-redact", prompt: "And then?", context: CONTEXT, stream: false }));
    assert.equal(cloud.requests.length, 0, "the cloud upstream was sent the context");
  });

  it("without context (or declared public) the same request goes to the cloud as before", async () => {
    const plain = await client.generate({ model: "cloud-only", prompt: "And then?", stream: false });
    assert.equal(plain.response, "Hello from ollama");
    const declared = new Ollama({ host: tandem.url, headers: { "x-tandem-sensitivity": "public" } });
    await declared.generate({ model: "cloud-only", prompt: "And then?", context: CONTEXT, stream: false });
    assert.equal(cloud.requests.length, 2);
    assert.deepEqual((cloud.requests[1]?.body as { context?: number[] }).context, CONTEXT, "sent as the client sent it");
  });
});
