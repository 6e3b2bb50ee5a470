/**
 * Bodies nested past MAX_JSON_DEPTH are a 400 naming the field, before any other work: nothing
 * reaches an upstream, and a healthy target's breaker and health do not move. 10,000 and 100,000
 * levels, in each field that carries a client's JSON schema and in plain content.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { nestsDeeperThan } from "../../src/core/index.js";
import { MAX_JSON_DEPTH } from "../../src/server/json-body.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const MODEL = "up/gpt-4o-mini";
const HOLE = "@HOLE@";

/** JSON text nested `levels` deep: objects `{"a":...}` or arrays `[...]`. */
function deep(levels: number, kind: "object" | "array"): string {
  return kind === "object" ? `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}` : `${"[".repeat(levels)}1${"]".repeat(levels)}`;
}

/** A valid request with the deep value put where HOLE is (JSON.stringify cannot build it: it recurses). */
function withDeep(template: unknown, value: string): string {
  return JSON.stringify(template).replace(`"${HOLE}"`, value);
}

const CASES: { path: string; field: string; template: unknown; dialect: "openai" | "anthropic" | "ollama" }[] = [
  {
    path: "/v1/chat/completions",
    dialect: "openai",
    field: "tools[0].function.parameters",
    template: {
      model: MODEL,
      messages: [{ role: "user", content: "hi" }],
      tools: [{ type: "function", function: { name: "f", parameters: HOLE } }],
    },
  },
  {
    path: "/v1/chat/completions",
    dialect: "openai",
    field: "response_format.json_schema.schema",
    template: {
      model: MODEL,
      messages: [{ role: "user", content: "hi" }],
      response_format: { type: "json_schema", json_schema: { name: "s", schema: HOLE } },
    },
  },
  {
    path: "/v1/chat/completions",
    dialect: "openai",
    field: "response_format",
    template: { model: MODEL, messages: [{ role: "user", content: "hi" }], response_format: HOLE },
  },
  {
    path: "/v1/chat/completions",
    dialect: "openai",
    field: "messages[1].content",
    template: {
      model: MODEL,
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: HOLE },
      ],
    },
  },
  {
    path: "/v1/messages",
    dialect: "anthropic",
    field: "tools[0].input_schema",
    template: {
      model: MODEL,
      max_tokens: 16,
      messages: [{ role: "user", content: "hi" }],
      tools: [{ name: "f", input_schema: HOLE }],
    },
  },
  {
    path: "/api/chat",
    dialect: "ollama",
    field: "format",
    template: { model: MODEL, messages: [{ role: "user", content: "hi" }], stream: false, format: HOLE },
  },
  {
    path: "/api/chat",
    dialect: "ollama",
    field: "tools[0].function.parameters",
    template: {
      model: MODEL,
      messages: [{ role: "user", content: "hi" }],
      stream: false,
      tools: [{ type: "function", function: { name: "f", parameters: HOLE } }],
    },
  },
  {
    path: "/api/generate",
    dialect: "ollama",
    field: "format",
    template: { model: MODEL, prompt: "hi", stream: false, format: HOLE },
  },
];

function errorMessage(dialect: string, body: unknown): string {
  const b = body as Record<string, unknown>;
  if (dialect === "ollama") {
    assert.equal(typeof b.error, "string");
    return b.error as string;
  }
  if (dialect === "anthropic") assert.equal(b.type, "error");
  const e = b.error as { message?: unknown; type?: unknown };
  assert.equal(typeof e.type, "string");
  assert.equal(typeof e.message, "string");
  return e.message as string;
}

describe("nestsDeeperThan", () => {
  it("counts brackets outside strings only, escaped quotes included", () => {
    assert.equal(nestsDeeperThan('{"a":[[1]]}', 3), false);
    assert.equal(nestsDeeperThan('{"a":[[[1]]]}', 3), true);
    assert.equal(nestsDeeperThan(JSON.stringify({ a: "[[[[{{{{", b: 'x\\"[[[[', c: "\\\\" }), 1), false);
    assert.equal(nestsDeeperThan(`{"a":"\\\\",${'"b":'}[[1]]}`, 2), true);
    assert.equal(nestsDeeperThan(deep(MAX_JSON_DEPTH, "array"), MAX_JSON_DEPTH), false);
    assert.equal(nestsDeeperThan(deep(MAX_JSON_DEPTH + 1, "object"), MAX_JSON_DEPTH), true);
  });
});

describe("deeply nested bodies", () => {
  let upstream: FakeOpenAIUpstream;
  let tandem: RunningTandem;

  before(async () => {
    upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
    tandem = await startTandem({
      breaker: { failureThreshold: 2, cooldownMs: 60_000 },
      providers: { up: { kind: "openai", baseUrl: upstream.url } },
    });
  });

  after(async () => {
    await tandem?.close();
    await upstream?.close();
  });

  async function post(path: string, body: string): Promise<{ status: number; body: unknown }> {
    const res = await fetch(tandem.url + path, { method: "POST", headers: { "content-type": "application/json" }, body });
    return { status: res.status, body: await res.json() };
  }

  it("are a 400 naming the field, at 10,000 and 100,000 levels, and never reach the upstream", async () => {
    for (const c of CASES) {
      for (const levels of [10_000, 100_000]) {
        for (const kind of ["object", "array"] as const) {
          const res = await post(c.path, withDeep(c.template, deep(levels, kind)));
          const context = `${c.path} ${c.field} ${levels} ${kind}`;
          assert.equal(res.status, 400, `${context}: ${JSON.stringify(res.body).slice(0, 300)}`);
          const message = errorMessage(c.dialect, res.body);
          assert.ok(message.includes(`'${c.field}`), `${context}: names the field: ${message}`);
          assert.ok(message.includes(String(MAX_JSON_DEPTH)), `${context}: names the limit: ${message}`);
          if (c.dialect === "openai") {
            const param = (res.body as { error: { param: string } }).error.param;
            assert.ok(param.startsWith(c.field), `${context}: param ${param}`);
          }
        }
      }
    }
    // The top level itself.
    const bare = await post("/v1/chat/completions", deep(100_000, "array"));
    assert.equal(bare.status, 400);
    assert.match(errorMessage("openai", bare.body), /nested more than/);
    assert.equal(upstream.requests.filter((r) => r.method === "POST").length, 0, "no request reached the upstream");
  });

  it("leave a healthy target's breaker closed and its record clean", async () => {
    // Whatever each answer is, none may count against the target (threshold 2 here).
    for (const c of CASES) {
      for (let i = 0; i < 3; i++) await post(c.path, withDeep(c.template, deep(10_000, "object")));
    }
    const status = (await (await fetch(`${tandem.url}/v1/status`)).json()) as {
      targets: { target: string; breaker: string; health: string; errorRate?: number }[];
    };
    const target = status.targets.find((t) => t.target === MODEL);
    assert.ok(target, JSON.stringify(status.targets));
    assert.equal(target.breaker, "closed");
    assert.notEqual(target.health, "unhealthy");
    const ok = await post("/v1/chat/completions", JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "hi" }] }));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });

  it("accepts a body exactly at the limit, and JSON-looking text inside strings at any length", async () => {
    // The body object is level 1, `metadata` level 2, so MAX_JSON_DEPTH - 1 more levels fit.
    const atLimit = withDeep(
      { model: MODEL, messages: [{ role: "user", content: "hi" }], metadata: HOLE },
      deep(MAX_JSON_DEPTH - 1, "object"),
    );
    const accepted = await post("/v1/chat/completions", atLimit);
    assert.notEqual(accepted.status, 500);
    assert.ok(!JSON.stringify(accepted.body).includes("nested more than"), JSON.stringify(accepted.body));
    const past = withDeep(
      { model: MODEL, messages: [{ role: "user", content: "hi" }], metadata: HOLE },
      deep(MAX_JSON_DEPTH, "object"),
    );
    const refused = await post("/v1/chat/completions", past);
    assert.equal(refused.status, 400);
    assert.match(errorMessage("openai", refused.body), /'metadata/);
    const text = await post(
      "/v1/chat/completions",
      JSON.stringify({
        model: MODEL,
        messages: [{ role: "user", content: `${"[{".repeat(50_000)} \\" ${"]}".repeat(50_000)}` }],
      }),
    );
    assert.equal(text.status, 200, JSON.stringify(text.body));
  });
});
