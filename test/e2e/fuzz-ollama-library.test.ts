/**
 * The property-based pass of fuzz-routes.test.ts over Ollama's model-library routes, on a server that
 * has a local engine (and no models): /api/create, /api/copy, /api/delete, /api/pull, /api/show and
 * HEAD/POST /api/blobs/:digest. Bad input gets a 4xx in Ollama's shape (`{"error": "..."}`), never a
 * 5xx, a hang or a crash; nothing leaves the machine (the hub is a closed port on 127.0.0.1).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
const SEED = Number(process.env.FUZZ_SEED ?? 20261205);
const DIGEST = `sha256:${"a".repeat(64)}`;

let tandem: RunningTandem;

before(async () => {
  tandem = await startTandem(
    { providers: { local: { kind: "llamacpp", threads: 1 } } },
    { env: { HF_ENDPOINT: "http://127.0.0.1:9" } },
  );
});

after(() => tandem?.close());

interface Answer {
  status: number;
  text: string;
  body: unknown;
}

async function send(
  method: string,
  path: string,
  body?: string | Uint8Array<ArrayBuffer>,
  contentType = "application/json",
): Promise<Answer> {
  const res = await fetch(tandem.url + path, {
    method,
    ...(body !== undefined && { body, headers: { "content-type": contentType } }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, text, body: parsed };
}

const badValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    true,
    0,
    -1,
    "",
    "sideways",
    [],
    {},
    [null],
    "x".repeat(100_000),
    "../../etc/passwd",
    "..",
    "a/../../b",
    "/etc/passwd",
    "C:\\\\Windows",
    "\u0000",
    "\ud800",
    "hf.co/../x",
    "hf.co/a/b:../../c",
    "model:tag:tag",
    `sha256:${"g".repeat(64)}`,
    DIGEST,
    { [DIGEST]: DIGEST },
    { "../x.gguf": DIGEST },
  ),
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.jsonValue({ maxDepth: 2 }),
);

const ROUTES: { method: string; path: string; valid: Record<string, unknown> }[] = [
  { method: "POST", path: "/api/copy", valid: { source: "a", destination: "b" } },
  {
    method: "POST",
    path: "/api/create",
    valid: {
      model: "made",
      from: "a",
      files: { "m.gguf": DIGEST },
      parameters: { temperature: 0.5, stop: ["\n"] },
      system: "s",
      template: "{{ .Prompt }}",
      stream: false,
    },
  },
  { method: "DELETE", path: "/api/delete", valid: { model: "made" } },
  { method: "POST", path: "/api/pull", valid: { model: "hf.co/none/none:Q4_K_M", stream: false, insecure: false } },
  { method: "POST", path: "/api/show", valid: { model: "made", verbose: true } },
  { method: "POST", path: "/api/generate", valid: { model: "made", keep_alive: 0 } },
];

function assertOllamaError(answer: Answer, context: string): void {
  assert.ok(answer.status < 500, `5xx: ${context}`);
  if (answer.status < 400) return;
  const body = answer.body as { error?: unknown };
  assert.equal(typeof body?.error, "string", `not Ollama's error shape: ${context}`);
}

describe("fuzzing Ollama's model-library routes (a local engine, no models)", { timeout: 120_000 }, () => {
  for (const route of ROUTES) {
    it(`${route.method} ${route.path}: one bad field gets a 4xx in Ollama's shape`, async () => {
      const fields = Object.keys(route.valid);
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...fields), fc.option(badValue, { freq: 5, nil: undefined }), async (field, value) => {
          const body = JSON.stringify({ ...route.valid, [field]: value });
          const answer = await send(route.method, route.path, body);
          // A name that passed every check is looked up on the hub, which is a closed port here.
          if (
            route.path === "/api/pull" &&
            answer.status === 503 &&
            /^cannot reach http:\/\/127\.0\.0\.1:9/.test(answer.text.slice(10))
          )
            return;
          assertOllamaError(
            answer,
            `${route.method} ${route.path} ${body.slice(0, 300)} -> ${answer.status} ${answer.text.slice(0, 300)}`,
          );
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
    });
  }

  it("HEAD and POST /api/blobs/:digest with hostile digests and bodies", async () => {
    const digest = fc.oneof(
      fc.constantFrom(
        DIGEST,
        "sha256:",
        "sha256-abc",
        "..",
        "%2e%2e%2Fx",
        "a%00b",
        "x".repeat(90),
        `sha256:${"A".repeat(64)}`,
        "%F0%9F%98%80",
      ),
      fc.string({ unit: "binary", minLength: 1, maxLength: 40 }).map(encodeURIComponent),
    );
    await fc.assert(
      fc.asyncProperty(digest, fc.constantFrom("HEAD", "POST"), fc.uint8Array({ maxLength: 64 }), async (d, method, bytes) => {
        const answer = await send(method, `/api/blobs/${d}`, method === "POST" ? bytes : undefined, "application/octet-stream");
        const context = `${method} /api/blobs/${d.slice(0, 100)} -> ${answer.status} ${answer.text.slice(0, 300)}`;
        assert.ok(answer.status < 500, `5xx: ${context}`);
        if (method === "POST") assertOllamaError(answer, context);
      }),
      { numRuns: RUNS * 2, seed: SEED, endOnFailure: true },
    );
  });

  it("still answers afterwards", async () => {
    const tags = await send("GET", "/api/tags");
    assert.equal(tags.status, 200, tags.text);
  });
});
