/**
 * The web console as the server serves it: the page to browsers at `/` (and the old one-line text to
 * everything else), its hashed assets with their content types, its security headers (CSP, nosniff,
 * no referrer, never framed), the Host check in front of it, the key in front of the data it reads
 * but not in front of the page, the 503 page when no bundle was built, and no secret in anything
 * the console can fetch.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import { consoleBundleDir } from "../support/console-bundle.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const WEB_SOURCES = fileURLToPath(new URL("../../web/src/", import.meta.url));
/** What a browser sends when it navigates to a page. */
const BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One GET with exactly these headers (Host included when given). */
function get(url: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: "GET", headers, setHost: !("host" in headers) }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

function assertConsoleHeaders(answer: Answer, context: string): void {
  assert.equal(answer.headers["content-security-policy"], CSP, `${context}: CSP`);
  assert.equal(answer.headers["x-content-type-options"], "nosniff", `${context}: nosniff`);
  assert.equal(answer.headers["referrer-policy"], "no-referrer", `${context}: referrer policy`);
  assert.equal(answer.headers["x-frame-options"], "DENY", `${context}: frame options`);
}

/** The /console/ files the page names in its <script src> and <link href>. */
function assetsOf(page: string): string[] {
  return [...page.matchAll(/(?:src|href)="(\/console\/[^"]+)"/g)].map((m) => m[1] as string);
}

let upstream: FakeOpenAIUpstream;
let bundle: string;

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  bundle = await consoleBundleDir();
});

after(async () => {
  await upstream?.close();
});

describe("the console on an open server (no apiKeys)", () => {
  let tandem: RunningTandem;

  before(async () => {
    tandem = await startTandem(
      { providers: { cloud: { kind: "openai", baseUrl: upstream.url, local: false, models: ["gpt-4o-mini"] } } },
      { consoleDir: bundle },
    );
  });

  after(async () => {
    await tandem?.close();
  });

  it("serves the page to a browser at / with a strict CSP, nosniff, no referrer, and no inline script or style", async () => {
    const page = await get(tandem.url, "/", { accept: BROWSER_ACCEPT });
    assert.equal(page.status, 200);
    assert.match(String(page.headers["content-type"]), /^text\/html; charset=utf-8$/);
    assertConsoleHeaders(page, "/");
    assert.equal(page.headers["cache-control"], "no-cache", "the page names the current assets: never cached stale");
    assert.match(String(page.headers.vary), /accept/i);
    assert.match(page.body, /<div id="app">/);
    // Every script is a file of the server's own (the CSP would block an inline one anyway).
    const scripts = [...page.body.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.ok(scripts.length >= 1, "the page loads a script");
    for (const [, attributes, content] of scripts) {
      assert.match(attributes ?? "", /src="\/console\/main-[A-Z0-9]+\.js"/);
      assert.equal(content, "", "no inline script");
    }
    assert.doesNotMatch(
      page.body,
      /<style|\sstyle="|\son[a-z]+="|javascript:|https?:\/\//i,
      "no inline style, handler or other origin",
    );
  });

  it("keeps answering non-browser clients (curl, health probes) with the plain text", async () => {
    for (const accept of [undefined, "*/*", "application/json", "text/plain", "text/html;q=0"]) {
      const answer = await get(tandem.url, "/", accept === undefined ? {} : { accept });
      assert.equal(answer.status, 200, String(accept));
      assert.equal(answer.body, "Ollama is running", String(accept));
      assert.match(String(answer.headers["content-type"]), /^text\/plain/, String(accept));
      assert.equal(answer.headers["content-security-policy"], undefined, String(accept));
    }
  });

  it("serves each asset the page names with its content type, immutable caching and the same headers", async () => {
    const page = await get(tandem.url, "/", { accept: BROWSER_ACCEPT });
    const assets = assetsOf(page.body);
    const types = new Map([
      [".js", /^text\/javascript; charset=utf-8$/],
      [".css", /^text\/css; charset=utf-8$/],
      [".svg", /^image\/svg\+xml$/],
    ]);
    assert.deepEqual(new Set(assets.map((a) => a.slice(a.lastIndexOf(".")))), new Set(types.keys()), `assets: ${assets}`);
    for (const path of assets) {
      const answer = await get(tandem.url, path);
      assert.equal(answer.status, 200, path);
      assert.match(String(answer.headers["content-type"]), types.get(path.slice(path.lastIndexOf("."))) as RegExp, path);
      assert.equal(answer.headers["cache-control"], "public, max-age=31536000, immutable", path);
      assert.equal(answer.headers["cross-origin-resource-policy"], "same-origin", path);
      assertConsoleHeaders(answer, path);
      assert.ok(answer.body.length > 100, `${path} has content`);
    }
    // Nothing the CSP would refuse at run time (eval), and the key never in localStorage.
    const script = await get(tandem.url, assets.find((a) => a.endsWith(".js")) as string);
    assert.doesNotMatch(script.body, /\beval\(|new Function\(/);
    assert.doesNotMatch(script.body, /localStorage/, "the key is never kept in localStorage");
  });

  it("has console code that never writes HTML: upstream text (errors, audit rows) is rendered as text", () => {
    // preact escapes text; only these would parse a string as HTML (the bundled preact itself
    // knows dangerouslySetInnerHTML, so the console's own sources are what is checked).
    const sources = readdirSync(WEB_SOURCES).filter((name) => /\.tsx?$/.test(name));
    assert.ok(sources.length > 5, "the console's sources are found");
    for (const name of sources) {
      const text = readFileSync(join(WEB_SOURCES, name), "utf8");
      assert.doesNotMatch(
        text,
        /innerHTML|outerHTML|insertAdjacentHTML|dangerouslySetInnerHTML|document\.write|localStorage/,
        name,
      );
    }
  });

  it("answers 404 for a file the bundle does not have, and never reads a path from the request", async () => {
    for (const path of [
      "/console/main-NOPE.js",
      "/console/index.html",
      "/console/..%2Fpackage.json",
      "/console/%2E%2E%2F%2E%2E%2Fpackage.json",
      "/console/",
      "/console/a/b.js",
    ]) {
      const answer = await get(tandem.url, path);
      assert.equal(answer.status, 404, `${path}: ${answer.body.slice(0, 100)}`);
      assert.doesNotMatch(answer.body, /"name": ?"tandem"|<html/, path);
    }
  });

  it("refuses a foreign Host (DNS rebinding) for the page and its assets", async () => {
    const port = new URL(tandem.url).port;
    const page = await get(tandem.url, "/", { accept: BROWSER_ACCEPT });
    for (const path of ["/", ...assetsOf(page.body)]) {
      const answer = await get(tandem.url, path, { host: `attacker.example:${port}`, accept: BROWSER_ACCEPT });
      assert.equal(answer.status, 403, path);
      assert.match(answer.body, /Host .* is not allowed/, path);
      assert.doesNotMatch(answer.body, /<script/, path);
    }
  });

  it("pages the egress audit with `after`, newest first, and says when there is more", async () => {
    const withStore = await startTandem(
      { providers: { cloud: { kind: "openai", baseUrl: upstream.url, local: false, models: ["gpt-4o-mini"] } } },
      { consoleDir: bundle, store: true },
    );
    try {
      const client = new OpenAI({ baseURL: `${withStore.url}/v1`, apiKey: "x", maxRetries: 0 });
      for (let i = 0; i < 3; i++) {
        await client.chat.completions.create({ model: "cloud/gpt-4o-mini", messages: [{ role: "user", content: `q${i}` }] });
      }
      const read = async (query: string) => JSON.parse((await get(withStore.url, `/v1/audit${query}`)).body);
      const all = await read("");
      assert.equal(all.data.length, 3);
      assert.equal(all.has_more, false);
      const first = await read("?limit=2");
      assert.deepEqual(
        first.data.map((r: { id: number }) => r.id),
        all.data.slice(0, 2).map((r: { id: number }) => r.id),
      );
      assert.equal(first.has_more, true);
      assert.equal(first.first_id, all.data[0].id);
      assert.equal(first.last_id, all.data[1].id);
      const second = await read(`?limit=2&after=${first.last_id}`);
      assert.deepEqual(
        second.data.map((r: { id: number }) => r.id),
        [all.data[2].id],
      );
      assert.equal(second.has_more, false);
      const filtered = await read(`?target=other/model&after=${first.last_id}`);
      assert.deepEqual(filtered.data, []);
      assert.equal(filtered.last_id, null);
      const bad = await get(withStore.url, "/v1/audit?after=abc");
      assert.equal(bad.status, 400);
      assert.equal(JSON.parse(bad.body).error.param, "after");
    } finally {
      await withStore.close();
    }
  });
});

describe("the console when server.apiKeys is set", () => {
  const KEY = "console-client-key-7f3a";
  let tandem: RunningTandem;

  before(async () => {
    tandem = await startTandem(
      { providers: { cloud: { kind: "openai", baseUrl: upstream.url, local: false, models: ["gpt-4o-mini"] } } },
      { consoleDir: bundle, clientKeys: [KEY], store: true },
    );
  });

  after(async () => {
    await tandem?.close();
  });

  it("serves the page and its assets without the key (they hold no data)", async () => {
    const page = await get(tandem.url, "/", { accept: BROWSER_ACCEPT });
    assert.equal(page.status, 200);
    for (const path of assetsOf(page.body)) assert.equal((await get(tandem.url, path)).status, 200, path);
  });

  it("keeps every data endpoint the console reads behind the key: 401 without it or with a wrong one", async () => {
    for (const path of ["/v1/status", "/metrics", "/v1/audit", "/v1/models", "/ready"]) {
      const none = await get(tandem.url, path);
      assert.equal(none.status, 401, `${path} without a key`);
      assert.doesNotMatch(none.body, /cloud\/gpt-4o-mini|tandem_requests_total/, `${path}: nothing leaks`);
      const wrong = await get(tandem.url, path, { authorization: "Bearer not-the-key" });
      assert.equal(wrong.status, 401, `${path} with a wrong key`);
      const right = await get(tandem.url, path, { authorization: `Bearer ${KEY}` });
      assert.equal(right.status, 200, `${path} with the key: ${right.body.slice(0, 200)}`);
    }
  });

  it("makes no other path public: a path under /console/ with a subfolder, or a POST, still needs the key", async () => {
    const nested = await get(tandem.url, "/console/a/b");
    assert.equal(nested.status, 401);
    const post = await new Promise<number>((resolve, reject) => {
      const req = request(`${tandem.url}/`, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end("{}");
    });
    assert.equal(post, 401);
  });
});

describe("the console's polling in the log", () => {
  it("logs its successful reads (page, assets, status, metrics, audit) at debug, not info; model requests and failures still at info", async () => {
    const log: string[] = [];
    const tandem = await startTandem(
      { providers: { cloud: { kind: "openai", baseUrl: upstream.url, local: false, models: ["gpt-4o-mini"] } } },
      { consoleDir: bundle, store: true, log },
    );
    try {
      const page = await get(tandem.url, "/", { accept: BROWSER_ACCEPT });
      for (const path of [...assetsOf(page.body), "/v1/status", "/metrics", "/v1/audit?limit=5"]) {
        assert.equal((await get(tandem.url, path)).status, 200, path);
      }
      assert.equal((await get(tandem.url, "/v1/audit?limit=0")).status, 400);
      const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
      await client.chat.completions.create({ model: "cloud/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
      // A request's line is written when its response closes, which may come after the client has the answer.
      for (let i = 0; i < 100 && !log.some((line) => line.includes('"/v1/chat/completions"')); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const paths = log.map((line) => JSON.parse(line) as { msg: string; path?: string }).filter((l) => l.msg === "request");
      assert.deepEqual(
        paths.map((l) => l.path),
        ["/v1/audit", "/v1/chat/completions"],
      );
    } finally {
      await tandem.close();
    }
  });
});

describe("the console without a bundle", () => {
  it("answers browsers with a 503 page that says to run the build, and keeps the plain text for others", async () => {
    const empty = mkdtempSync(join(tmpdir(), "tandem-no-console-"));
    const tandem = await startTandem({ providers: { cloud: { kind: "openai", baseUrl: upstream.url } } }, { consoleDir: empty });
    try {
      const page = await get(tandem.url, "/", { accept: BROWSER_ACCEPT });
      assert.equal(page.status, 503);
      assert.match(String(page.headers["content-type"]), /^text\/html/);
      assertConsoleHeaders(page, "503 page");
      assert.equal(page.headers["cache-control"], "no-store");
      assert.match(page.body, /npm run build/);
      assert.doesNotMatch(page.body, /<script/);
      const plain = await get(tandem.url, "/");
      assert.equal(plain.body, "Ollama is running");
      assert.equal((await get(tandem.url, "/console/main-X.js")).status, 404);
    } finally {
      await tandem.close();
    }
  });
});

describe("what the console can fetch", () => {
  it("holds no secret: no provider key, MCP header or client key in the page, its assets, /v1/status, /metrics or /v1/audit", async () => {
    const providerKey = "sk-provider-secret-5be1d0c9";
    const mcpSecret = "mcp-header-secret-0d3c44aa";
    const clientKey = "client-key-secret-93ac1e";
    const keyed = await startFakeOpenAI({ models: ["gpt-4o-mini"], apiKey: providerKey });
    const tandem = await startTandem(
      {
        providers: {
          cloud: { kind: "openai", baseUrl: keyed.url, local: false, apiKeys: ["env:CLOUD_KEY"], models: ["gpt-4o-mini"] },
        },
        // Nothing listens there: the server is only configured, with a literal header and one from the env.
        mcp: {
          servers: {
            docs: {
              url: "http://127.0.0.1:9/mcp",
              // biome-ignore lint/suspicious/noTemplateCurlyInString: tandem's reference syntax in a config value
              headers: { authorization: `Bearer ${mcpSecret}`, "x-other": "${env:MCP_TOKEN}" },
            },
          },
        },
      },
      { consoleDir: bundle, env: { CLOUD_KEY: providerKey, MCP_TOKEN: mcpSecret }, clientKeys: [clientKey], store: true },
    );
    try {
      const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: clientKey, maxRetries: 0 });
      const answer = await client.chat.completions.create({
        model: "cloud/gpt-4o-mini",
        messages: [{ role: "user", content: "hi" }],
      });
      assert.ok(answer.choices[0]?.message.content, "the provider key was used");
      const auth = { authorization: `Bearer ${clientKey}` };
      const page = await get(tandem.url, "/", { accept: BROWSER_ACCEPT });
      const fetched = [page, ...(await Promise.all(assetsOf(page.body).map((path) => get(tandem.url, path))))];
      for (const path of ["/v1/status", "/metrics", "/v1/audit"]) fetched.push(await get(tandem.url, path, auth));
      const status = JSON.parse((fetched.at(-3) as Answer).body);
      assert.equal(status.mcp.servers[0].label, "docs", "the MCP server is in the status");
      assert.ok((JSON.parse((fetched.at(-1) as Answer).body).data as unknown[]).length >= 1, "the audit has the request");
      for (const answer of fetched) {
        for (const secret of [providerKey, mcpSecret, clientKey])
          assert.ok(!answer.body.includes(secret), `a secret in ${answer.body.slice(0, 80)}`);
      }
    } finally {
      await tandem.close();
      await keyed.close();
    }
  });
});
