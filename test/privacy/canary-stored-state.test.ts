/**
 * Canary tests for stored state: private values planted in earlier turns that tandem keeps (a
 * `previous_response_id` chain, a conversation) must not reach a cloud upstream on later turns whose
 * own input is harmless — not on a hand-off to a cloud target, not on failover from a failing local
 * one — under `local-only` (nothing leaves at all) and `redact` (placeholders leave, the client gets
 * its values back), including a turn declared private whose values no detector would find; and a
 * route's summarizer, asked to summarize such a history, must not carry them out either. Cloud
 * upstreams (OpenAI-kind fakes marked `local: false`) sit behind raw TCP recorders, and the check is
 * on every byte they received.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import OpenAI from "openai";
import type { ConfigInput } from "../../src/config/index.js";
import { type ByteRecorder, startByteRecorder } from "../support/byte-recorder.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

// Assembled at run time so no scanner mistakes this file for a leak.
const EMAIL = ["stored.canary", "example.org"].join("@");
const CARD = ["4111", "1111", "1111", "1111"].join(" ");
const PHONE = "+1 415-555-0177";
/** Declared private by the client, found by no detector: only the stored sensitivity protects it. */
const VAULT = ["tango", "451", "zulu"].join("-");

const CANARIES: Record<string, string[]> = {
  email: [EMAIL],
  card: [CARD, CARD.replace(/ /g, ""), CARD.replace(/ /g, "-")],
  phone: [PHONE, "4155550177", "415-555-0177", "(415) 555-0177"],
  vault: [VAULT],
};

function canariesIn(bytes: Buffer | string): string[] {
  const text = (typeof bytes === "string" ? bytes : bytes.toString("utf8")).toLowerCase();
  const found: string[] = [];
  for (const [kind, forms] of Object.entries(CANARIES)) {
    for (const form of forms) {
      for (const spelled of [form, JSON.stringify(form).slice(1, -1), encodeURIComponent(form)]) {
        if (text.includes(spelled.toLowerCase())) found.push(`${kind} ${JSON.stringify(spelled)}`);
      }
    }
  }
  return found;
}

const PRIVATE_TURN = `My email is ${EMAIL}, my card is ${CARD} and my phone is ${PHONE}. Remember them.`;
const SECRET_TURN = `The vault code is ${VAULT}. Keep it to yourself.`;
const HARMLESS = "What should I do next?";
const FILLER = "Background notes about the trip itinerary and the hotels. ".repeat(60);

const LOCAL = "home/m";
const LOCAL_SUMMARIZER = "home/sum";
const CLOUD = "cloud/gpt";
const CLOUD_SMALL = "cloud/small";
const CLOUD_SUMMARIZER = "cloudsum/s";

let home: FakeOpenAIUpstream;
let cloud: FakeOpenAIUpstream;
let cloudSum: FakeOpenAIUpstream;
let cloudRecorder: ByteRecorder;
let sumRecorder: ByteRecorder;
let tandem: RunningTandem;
let client: OpenAI;

const fast = {
  retry: { attempts: 1, baseMs: 0, maxMs: 0 },
  timeouts: { connectMs: 1000, firstTokenMs: 2000, idleMs: 2000, totalMs: 8000 },
};
const LIMIT = { timeout: 15_000 };

before(async () => {
  [home, cloud, cloudSum] = await Promise.all([
    startFakeOpenAI({ models: ["m", "sum"] }),
    startFakeOpenAI({ models: ["gpt"] }),
    startFakeOpenAI({ models: ["s"] }),
  ]);
  [cloudRecorder, sumRecorder] = await Promise.all([startByteRecorder(cloud.url), startByteRecorder(cloudSum.url)]);
  const config: ConfigInput = {
    breaker: { failureThreshold: 1000, cooldownMs: 1000 },
    privacy: { default: "local-only" },
    store: { enabled: true, logContent: false },
    providers: {
      home: { kind: "openai", baseUrl: home.url, local: true, models: { m: { id: "m" }, sum: { id: "sum" } } },
      cloud: {
        kind: "openai",
        baseUrl: `${cloudRecorder.url}/v1`,
        local: false,
        apiKeys: ["env:UP_CLOUD"],
        models: { gpt: { id: "gpt" }, small: { id: "gpt", contextWindow: 600 } },
      },
      cloudsum: {
        kind: "openai",
        baseUrl: `${sumRecorder.url}/v1`,
        local: false,
        apiKeys: ["env:UP_CLOUD"],
        models: { s: { id: "s" } },
      },
    },
    routes: {
      "local-first": { tiers: [LOCAL, CLOUD], privacy: "local-only", ...fast },
      "redact-first": { tiers: [LOCAL, CLOUD], privacy: "redact", ...fast },
      "redact-cloud": { tiers: [CLOUD], privacy: "redact", ...fast },
      "local-only-cloud": { tiers: [CLOUD], privacy: "local-only", ...fast },
      "sum-local": { tiers: [CLOUD_SMALL], privacy: "redact", summarizer: LOCAL_SUMMARIZER, ...fast },
      "sum-cloud": { tiers: [CLOUD_SMALL], privacy: "redact", summarizer: CLOUD_SUMMARIZER, ...fast },
      "sum-local-only": { tiers: [LOCAL, CLOUD_SMALL], privacy: "local-only", summarizer: CLOUD_SUMMARIZER, ...fast },
    },
  };
  tandem = await startTandem(config, { store: true, env: { UP_CLOUD: "sk-upstream-cloud" } });
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0, timeout: 10_000 });
});

after(async () => {
  await tandem?.close();
  await Promise.all([cloudRecorder?.close(), sumRecorder?.close()]);
  await Promise.all([home, cloud, cloudSum].map((f) => f?.close()));
});

const PLACEHOLDER = /\[[A-Z][A-Z0-9_]*?_\d+(?:_R\d+)?\]/g;

beforeEach(() => {
  for (const fake of [home, cloud, cloudSum]) fake.requests.length = 0;
  cloudRecorder.clear();
  sumRecorder.clear();
  home.script((request) =>
    (request.body as { model?: string }).model === "sum"
      ? // The local summarizer repeats the private values, some in another spelling.
        { kind: "text", text: `The user gave email ${EMAIL}, card ${CARD} and phone ${PHONE}.` }
      : { kind: "text", text: "Handled on this machine." },
  );
  // The cloud answers with the placeholders it was sent, so the client can be checked to get its values back.
  cloud.script((request) => ({
    kind: "text",
    text: `Noted: ${[...new Set(JSON.stringify(request.body).match(PLACEHOLDER) ?? [])].join(" ")}`,
  }));
  cloudSum.script(() => ({ kind: "text", text: "A cloud summary." }));
});

/** The bytes a recorder received hold no canary in any spelling. */
async function assertNoCanaries(recorder: ByteRecorder, where: string): Promise<Buffer> {
  await sleep(50);
  const bytes = recorder.received();
  assert.deepEqual(canariesIn(bytes), [], `canaries reached ${where}`);
  return bytes;
}

async function assertUntouched(recorder: ByteRecorder, where: string): Promise<void> {
  const bytes = await assertNoCanaries(recorder, where);
  assert.equal(bytes.length, 0, `${where} received ${bytes.length} bytes`);
}

type Turn = { model: string; input: string; headers?: Record<string, string> };

/** A stored private history, by chain or by conversation; answers how to continue it. */
interface Stored {
  continueWith(turn: Turn): Promise<{ text: string; headers: Headers }>;
}

async function storedHistory(how: "previous_response_id" | "conversation", turns: Turn[]): Promise<Stored> {
  const conversation = how === "conversation" ? (await client.conversations.create({})).id : undefined;
  let previous: string | undefined;
  const ask = async (turn: Turn) => {
    const { data, response } = await client.responses
      .create(
        {
          model: turn.model,
          input: turn.input,
          // The routes with a small cloud window cut the history (and summarize it where they can).
          truncation: "auto",
          ...(conversation !== undefined ? { conversation } : previous !== undefined && { previous_response_id: previous }),
        },
        { headers: turn.headers ?? {} },
      )
      .withResponse();
    previous = data.id;
    return { text: data.output_text, headers: response.headers };
  };
  for (const turn of turns) await ask(turn);
  return { continueWith: ask };
}

const HOW = ["previous_response_id", "conversation"] as const;

describe("stored state under local-only: earlier private turns never reach a cloud target", () => {
  for (const how of HOW) {
    it(`${how}: a harmless later turn, its local target failing, does not fail over to the cloud`, LIMIT, async () => {
      const stored = await storedHistory(how, [{ model: "local-first", input: PRIVATE_TURN }]);
      home.script(() => ({ kind: "error", status: 500, message: "local engine down" }));
      await assert.rejects(stored.continueWith({ model: "local-first", input: HARMLESS }), (err: unknown) => {
        assert.ok(err instanceof OpenAI.APIError, String(err));
        assert.equal(err.status, 503);
        return true;
      });
      await assertUntouched(cloudRecorder, "the cloud upstream");
    });

    it(`${how}: a hand-off to a cloud-only local-only route is refused, not sent`, LIMIT, async () => {
      const stored = await storedHistory(how, [{ model: "local-first", input: PRIVATE_TURN }]);
      await assert.rejects(stored.continueWith({ model: "local-only-cloud", input: HARMLESS }), (err: unknown) => {
        assert.ok(err instanceof OpenAI.APIError, String(err));
        assert.equal(err.status, 403);
        return true;
      });
      await assert.rejects(stored.continueWith({ model: CLOUD, input: HARMLESS }), OpenAI.APIError);
      await assertUntouched(cloudRecorder, "the cloud upstream");
    });

    it(`${how}: a turn declared private (values no detector finds) keeps every later turn local`, LIMIT, async () => {
      const stored = await storedHistory(how, [
        { model: "local-first", input: SECRET_TURN, headers: { "x-tandem-sensitivity": "private" } },
      ]);
      // Neither a header saying public nor a failing local target lets the history out.
      const { text, headers } = await stored.continueWith({
        model: "local-first",
        input: HARMLESS,
        headers: { "x-tandem-sensitivity": "public" },
      });
      assert.equal(text, "Handled on this machine.");
      assert.equal(headers.get("x-tandem-sensitivity"), "private");
      home.script(() => ({ kind: "error", status: 500, message: "local engine down" }));
      await assert.rejects(stored.continueWith({ model: "local-first", input: HARMLESS }), OpenAI.APIError);
      await assertUntouched(cloudRecorder, "the cloud upstream");
    });
  }
});

describe("stored state under redact: the cloud gets placeholders, the client its values", () => {
  for (const how of HOW) {
    it(`${how}: failover from the local target sends the stored history redacted, the answer restored`, LIMIT, async () => {
      const stored = await storedHistory(how, [{ model: "redact-first", input: PRIVATE_TURN }]);
      home.script(() => ({ kind: "error", status: 500, message: "local engine down" }));
      const { text, headers } = await stored.continueWith({ model: "redact-first", input: HARMLESS });
      assert.equal(headers.get("x-tandem-target"), CLOUD);
      const bytes = await assertNoCanaries(cloudRecorder, "the cloud upstream");
      assert.match(bytes.toString("utf8"), PLACEHOLDER);
      assert.ok(text.includes(EMAIL) && text.includes(CARD), `the answer is restored: ${text}`);
    });

    it(`${how}: a hand-off to a cloud route sends the stored history redacted, the answer restored`, LIMIT, async () => {
      const stored = await storedHistory(how, [{ model: "redact-first", input: PRIVATE_TURN }]);
      const { text } = await stored.continueWith({ model: "redact-cloud", input: HARMLESS });
      await assertNoCanaries(cloudRecorder, "the cloud upstream");
      assert.ok(text.includes(PHONE), `the answer is restored: ${text}`);
    });
  }
});

describe("stored state and the summarizer", () => {
  const longPrivate = (model: string): Turn[] => [
    { model, input: `${PRIVATE_TURN} ${FILLER}` },
    { model, input: `${FILLER} Anything else?` },
  ];

  for (const how of HOW) {
    it(`${how}: a local summarizer's summary of a private history goes to the cloud redacted, and is stored`, LIMIT, async () => {
      const stored = await storedHistory(how, longPrivate("redact-first"));
      const { text, headers } = await stored.continueWith({ model: "sum-local", input: HARMLESS });
      assert.match(headers.get("x-tandem-degraded") ?? "", /history summarized by home\/sum/);
      assert.ok(
        home.requests.some((r) => (r.body as { model?: string }).model === "sum"),
        "the local summarizer was asked",
      );
      const bytes = await assertNoCanaries(cloudRecorder, "the cloud upstream");
      assert.match(bytes.toString("utf8"), /The user gave email \[/);
      assert.ok(text.includes(EMAIL), `the answer is restored: ${text}`);
      // The next turn reuses the stored summary: still nothing private leaves, and no new summary is made.
      const asked = home.requests.length;
      cloudRecorder.clear();
      await stored.continueWith({ model: "sum-local", input: "And then?" });
      assert.equal(home.requests.length, asked, "the summary was reused");
      await assertNoCanaries(cloudRecorder, "the cloud upstream");
    });

    it(`${how}: a cloud summarizer is not sent a private history (the cut is a plain truncation)`, LIMIT, async () => {
      const stored = await storedHistory(how, longPrivate("redact-first"));
      const { headers } = await stored.continueWith({ model: "sum-cloud", input: HARMLESS });
      assert.match(headers.get("x-tandem-degraded") ?? "", /no summary: the summarizer failed: permission_denied/);
      await assertUntouched(sumRecorder, "the cloud summarizer");
      await assertNoCanaries(cloudRecorder, "the cloud upstream");
    });
  }

  it("local-only: a cloud summarizer on a local-only route hears nothing, the cloud target neither", LIMIT, async () => {
    const stored = await storedHistory("conversation", longPrivate("local-first"));
    home.script(() => ({ kind: "error", status: 500, message: "local engine down" }));
    await assert.rejects(stored.continueWith({ model: "sum-local-only", input: HARMLESS }), OpenAI.APIError);
    await assertUntouched(sumRecorder, "the cloud summarizer");
    await assertUntouched(cloudRecorder, "the cloud upstream");
  });

  it("a summary that spells a value differently from the history is not sent to a redacting cloud target", LIMIT, async () => {
    const stored = await storedHistory("conversation", longPrivate("redact-first"));
    home.script((request) =>
      (request.body as { model?: string }).model === "sum"
        ? { kind: "text", text: "The user's phone is (415) 555-0177." }
        : { kind: "text", text: "Handled on this machine." },
    );
    const { headers } = await stored.continueWith({ model: "sum-local", input: HARMLESS });
    await assertNoCanaries(cloudRecorder, "the cloud upstream");
    assert.match(headers.get("x-tandem-degraded") ?? "", /summary holds private data this target may not be sent/);
  });
});
