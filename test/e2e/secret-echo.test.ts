/**
 * Upstreams that echo the key tandem sent (and its Authorization / x-api-key header) in their errors:
 * JSON error bodies, HTML error pages, an error inside a 200 stream (SSE `error` event, NDJSON
 * `{"error"}` line, the error object of a whole answer) and a 429 with Retry-After. Through all three
 * client dialects, streamed and not, the key must reach no client answer, no log line, /v1/status,
 * /metrics or any store row.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { anthropicEchoReply, type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOllamaUpstream, ollamaEchoReply, startFakeOllama } from "../support/fake-ollama-upstream.js";
import { type FakeOpenAIUpstream, openAIEchoReply, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { ECHO_SHAPES } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

// Keys of no known shape (not sk-..., no Bearer in front): only knowing the key itself masks them.
const KEYS = {
  OA_KEY: `oa${randomBytes(18).toString("hex")}`,
  AN_KEY: `an${randomBytes(18).toString("hex")}`,
  OL_KEY: `ol${randomBytes(18).toString("hex")}`,
};
const ALL_KEYS = Object.values(KEYS);

type Dialect = "openai" | "anthropic" | "ollama";

/** One chat request in a client dialect; the whole answer as text (status line included). */
async function ask(url: string, dialect: Dialect, model: string, stream: boolean): Promise<{ status: number; text: string }> {
  const messages = [{ role: "user", content: "hello" }];
  const [path, body, headers] =
    dialect === "openai"
      ? ["/v1/chat/completions", { model, messages, stream }, {}]
      : dialect === "anthropic"
        ? ["/v1/messages", { model, messages, stream, max_tokens: 32 }, { "anthropic-version": "2023-06-01" }]
        : ["/api/chat", { model, messages, stream }, {}];
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const headerText = [...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
  return { status: res.status, text: `${headerText}\n\n${await res.text()}` };
}

function assertNoKey(where: string, text: string): void {
  for (const key of ALL_KEYS) assert.ok(!text.includes(key), `${where} shows a key:\n${text.slice(0, 2000)}`);
}

describe("secrets never leave through errors", () => {
  let openai: FakeOpenAIUpstream;
  let anthropic: FakeAnthropic;
  let ollama: FakeOllamaUpstream;
  let tandem: RunningTandem;
  const log: string[] = [];

  before(async () => {
    openai = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
    anthropic = await startFakeAnthropic({ models: ["claude-sonnet-4-5"] });
    ollama = await startFakeOllama({ models: ["llama3.2:latest"] });
    const once = { retry: { attempts: 1, baseMs: 1, maxMs: 10 } };
    tandem = await startTandem(
      {
        providers: {
          oa: { kind: "openai", baseUrl: openai.url, apiKeys: ["env:OA_KEY"], models: ["gpt-4o-mini"], local: false },
          an: { kind: "anthropic", baseUrl: anthropic.url, apiKeys: ["env:AN_KEY"], models: ["claude-sonnet-4-5"], local: false },
          ol: { kind: "ollama", baseUrl: ollama.url, apiKeys: ["env:OL_KEY"], models: ["llama3.2:latest"], local: false },
        },
        routes: {
          "via-oa": { tiers: ["oa/gpt-4o-mini"], ...once },
          "via-an": { tiers: ["an/claude-sonnet-4-5"], ...once },
          "via-ol": { tiers: ["ol/llama3.2:latest"], ...once },
        },
        // Every request must reach its upstream: no breaker may short-circuit the echo.
        breaker: { failureThreshold: 10_000, cooldownMs: 1000 },
      },
      { env: { ...KEYS }, store: { logContent: true }, log },
    );
  });

  after(async () => {
    await tandem?.close();
    await openai?.close();
    await anthropic?.close();
    await ollama?.close();
  });

  for (const shape of ECHO_SHAPES) {
    it(`masks a key echoed in a ${shape} error, in every dialect, streamed and not`, async () => {
      openai.script((r) => openAIEchoReply(shape, r));
      anthropic.script((r) => anthropicEchoReply(shape, r));
      ollama.script((r) => ollamaEchoReply(shape, r));
      for (const [route, fake, key] of [
        ["via-oa", openai, KEYS.OA_KEY],
        ["via-an", anthropic, KEYS.AN_KEY],
        ["via-ol", ollama, KEYS.OL_KEY],
      ] as const) {
        for (const dialect of ["openai", "anthropic", "ollama"] as const) {
          for (const stream of [false, true]) {
            const seen = fake.requests.length;
            const answer = await ask(tandem.url, dialect, route, stream);
            const where = `${route} ${shape} ${dialect}${stream ? " stream" : ""}`;
            assert.ok(fake.requests.length > seen, `${where}: the upstream was asked`);
            assert.ok(JSON.stringify(fake.requests.at(-1)?.headers).includes(key), `${where}: the key was sent`);
            assertNoKey(where, answer.text);
            // The error still reaches the client, with the key masked rather than the message dropped.
            assert.match(answer.text, /error/i, where);
            if (shape === "json") assert.match(answer.text, /Incorrect API key provided: \[redacted\]/, where);
          }
        }
      }
    });
  }

  it("cuts an upstream's error page to a short excerpt of its text", async () => {
    const page = `<html><head><style>body { color: red }</style></head><body><h1>Bad Gateway</h1>${"<p>filler text</p>".repeat(20_000)}</body></html>`;
    openai.script(() => ({ kind: "raw", status: 502, headers: { "content-type": "text/html" }, body: [page] }));
    const res = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "via-oa", messages: [{ role: "user", content: "hi" }] }),
    });
    const { error } = (await res.json()) as { error: { message: string } };
    assert.equal(res.status, 502);
    assert.match(error.message, /^Bad Gateway filler text/);
    assert.ok(error.message.length <= 501, `${error.message.length} characters`);
  });

  it("keeps keys out of the log, /v1/status, /metrics and every store row", async () => {
    assert.ok(log.length > 0, "the log was captured");
    assertNoKey("the log", log.join("\n"));
    assert.ok(
      log.some((line) => line.includes("[redacted]")),
      "log lines carry the (masked) upstream errors",
    );

    const status = await (await fetch(`${tandem.url}/v1/status`)).text();
    assertNoKey("/v1/status", status);
    const targets = (JSON.parse(status) as { targets: { target: string; lastError?: { message: string } }[] }).targets;
    for (const target of ["oa/gpt-4o-mini", "an/claude-sonnet-4-5", "ol/llama3.2:latest"]) {
      assert.ok(targets.find((t) => t.target === target)?.lastError, `${target} has a last error`);
    }
    assertNoKey("/metrics", await (await fetch(`${tandem.url}/metrics`)).text());

    const store = tandem.server.store;
    assert.ok(store);
    const rows = [
      ...(await store.queryRequests({ limit: 10_000 })),
      ...(await store.queryUsage()),
      ...(await store.queryAudit({})),
    ];
    assert.ok(rows.length >= 72, `every request left rows (${rows.length})`);
    assertNoKey("the store", JSON.stringify(rows));
  });
});
