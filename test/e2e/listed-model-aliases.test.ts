/**
 * A route or a client naming an Anthropic model by its alias (`claude/claude-sonnet-4-5`, as the
 * README's own config example does) when the provider's model list names only dated ids
 * (`claude-sonnet-4-5-20250929`, as the real API lists them): the alias is listed, and goes upstream
 * as the client named it. And a route that no target can answer until its configuration changes (no
 * model of that name, no key) is answered as an error not to retry, in every dialect, where a route
 * whose targets are down is still the overload clients wait out.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const DATED = [
  "claude-sonnet-4-5-20250929",
  "claude-haiku-4-5-20251001",
  "claude-opus-4-1-20250805",
  "claude-3-7-sonnet-20250219",
];

let claude: FakeAnthropic;
let openai: FakeOpenAIUpstream;
let tandem: RunningTandem;

before(async () => {
  claude = await startFakeAnthropic({ models: DATED });
  openai = await startFakeOpenAI({ models: ["gpt-4o-mini", "x-model-20250101"] });
  tandem = await startTandem(
    {
      providers: {
        claude: { kind: "anthropic", baseUrl: claude.url, apiKeys: ["env:ANTHROPIC_API_KEY"] },
        oa: { kind: "openai", baseUrl: openai.url },
        nokey: { kind: "openai", baseUrl: openai.url, apiKeys: ["env:NOT_SET_ANYWHERE"], models: ["gpt-4o-mini"] },
        // Port 9 (discard) has no listener here: every connection is refused at once.
        gone: { kind: "openai", baseUrl: "http://127.0.0.1:9/v1", models: ["m"] },
      },
      routes: {
        auto: { tiers: ["claude/claude-sonnet-4-5"] },
        misnamed: { tiers: ["claude/claude-sonnet-9", "oa/x-model"] },
        unkeyed: { tiers: ["claude/claude-sonnet-9", "nokey/gpt-4o-mini"] },
        down: { tiers: ["gone/m"], retry: { attempts: 1 } },
      },
    },
    { env: { ANTHROPIC_API_KEY: "sk-ant-test" } },
  );
});

after(async () => {
  await tandem?.close();
  await claude?.close();
  await openai?.close();
});

function messages(model: string) {
  return fetch(`${tandem.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, max_tokens: 20, messages: [{ role: "user", content: "Hi" }] }),
  });
}

function chat(model: string) {
  return fetch(`${tandem.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "Hi" }] }),
  });
}

/** The model of each request the fake Anthropic answered, since `from`. */
function sentModels(from: number): unknown[] {
  return claude.requests
    .slice(from)
    .filter((r) => r.path.startsWith("/v1/messages"))
    .map((r) => (r.body as { model?: unknown }).model);
}

describe("an Anthropic alias of a listed dated id", () => {
  it("answers a route naming the alias, sending the alias upstream", async () => {
    const from = claude.requests.length;
    const res = await messages("auto");
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get("x-tandem-target"), "claude/claude-sonnet-4-5");
    assert.equal(res.headers.get("x-tandem-attempts"), "1");
    assert.deepEqual(sentModels(from), ["claude-sonnet-4-5"]);
  });

  it("answers a client naming an alias, a -latest alias or the dated id itself", async () => {
    for (const [model, sent] of [
      ["claude/claude-haiku-4-5", "claude-haiku-4-5"],
      ["claude/claude-3-7-sonnet-latest", "claude-3-7-sonnet-latest"],
      ["claude/claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929"],
    ] as const) {
      const from = claude.requests.length;
      const res = await chat(model);
      assert.equal(res.status, 200, `${model}: ${await res.clone().text()}`);
      assert.equal(res.headers.get("x-tandem-target"), model);
      assert.deepEqual(sentModels(from), [sent], model);
    }
  });

  it("still refuses a name that is no listed id's alias, and aliases only where the upstream takes them", async () => {
    const from = claude.requests.length;
    for (const model of ["claude/claude-sonnet-4", "claude/claude-sonnet-4-5-2025", "claude/claude-opus-4"]) {
      const res = await chat(model);
      assert.equal(res.status, 404, model);
    }
    assert.deepEqual(sentModels(from), [], "never asked");
    // An OpenAI-compatible upstream lists what it takes (OpenAI lists `gpt-4o` beside its dated ids).
    assert.equal((await chat("oa/x-model")).status, 404);
    assert.equal((await chat("oa/x-model-20250101")).status, 200);
  });
});

describe("a route no target can answer until its configuration changes", () => {
  it("is a 503 api_error with x-should-retry: false for an Anthropic client, not an overload", async () => {
    const from = claude.requests.length;
    for (const route of ["misnamed", "unkeyed"]) {
      const res = await messages(route);
      assert.equal(res.status, 503, route);
      assert.equal(res.headers.get("x-should-retry"), "false", route);
      const body = (await res.json()) as { error: { type: string; message: string } };
      assert.equal(body.error.type, "api_error", route);
      assert.match(
        body.error.message,
        new RegExp(
          `^No answer for '${route}': no target can answer until the configuration changes\\. Attempts: claude/claude-sonnet-9: not_found after 0 ms \\(the provider does not list this model\\)`,
        ),
      );
    }
    assert.deepEqual(sentModels(from), []);
  });

  it("says x-should-retry: false to an OpenAI client, and is a 503 to an Ollama one", async () => {
    const res = await chat("misnamed");
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("x-should-retry"), "false");
    const body = (await res.json()) as { error: { type: string; message: string } };
    assert.equal(body.error.type, "service_unavailable_error");
    assert.match(body.error.message, /oa\/x-model: not_found/);
    const ollama = await fetch(`${tandem.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "misnamed", stream: false, messages: [{ role: "user", content: "Hi" }] }),
    });
    assert.equal(ollama.status, 503);
  });

  it("keeps the overload a client waits out for a route whose targets are down", async () => {
    const res = await messages("down");
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("x-should-retry"), "true");
    assert.equal(((await res.json()) as { error: { type: string } }).error.type, "overloaded_error");
    const openaiRes = await chat("down");
    assert.equal(openaiRes.status, 503);
    assert.equal(openaiRes.headers.get("x-should-retry"), null);
  });
});
