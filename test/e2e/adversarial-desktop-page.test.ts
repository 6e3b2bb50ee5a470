/**
 * A web page in the user's browser, as the attacker: the requests a page can make without any CORS
 * check and without an Origin header. Browsers send Origin with CORS requests and with every POST,
 * but not with a "no-cors" GET: an <img>, <script> or <link rel=stylesheet> pointed at tandem, or a
 * `fetch(url, {mode: "no-cors"})`. The page cannot read such an answer, but it learns its status
 * (a <script> or <link> fires `load` on a 2xx and `error` otherwise), so an answered 200 against a 401
 * tells it whether tandem needs a key, and a text answer (/metrics) runs as a script in its page.
 * What they carry instead is Fetch Metadata (`Sec-Fetch-Site: cross-site`, `Sec-Fetch-Mode: no-cors`),
 * which Chromium, Firefox and Safari send to localhost; the requests here carry exactly the headers
 * Chromium 156 was seen sending for each element.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { chromium } from "playwright-core";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

interface Sent {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(url: string, method: string, path: string, headers: Record<string, string>): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        text += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** What Chromium sends for a cross-site page's subresource: no Origin, only the fetch metadata. */
function subresource(dest: string): Record<string, string> {
  return { "sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors", "sec-fetch-dest": dest, accept: "*/*" };
}

const CHROMIUM = [process.env.TANDEM_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find(
  (path) => path !== undefined && existsSync(path),
);

let upstream: FakeOpenAIUpstream;
let open: RunningTandem;
let locked: RunningTandem;

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  const config = { providers: { up: { kind: "openai" as const, baseUrl: upstream.url } } };
  open = await startTandem(config);
  locked = await startTandem(config, { clientKeys: ["secret-client-key"] });
});

after(async () => {
  await open?.close();
  await locked?.close();
  await upstream?.close();
});

describe("a cross-site page's no-cors requests (no Origin, no preflight)", () => {
  const paths = ["/v1/models", "/v1/status", "/metrics", "/v1/files", "/v1/responses", "/api/tags", "/health", "/ready"];

  it("are refused with the same 403 whether or not tandem needs a key, on every GET route", async () => {
    for (const [name, tandem] of [
      ["open", open],
      ["locked", locked],
    ] as const) {
      const routes = tandem.server.routes.filter((r) => r.method === "GET").map((r) => r.url.replace(/:[^/]+/g, "x"));
      for (const path of new Set([...paths, ...routes])) {
        for (const dest of ["script", "style", "image", "empty"]) {
          const res = await send(tandem.url, "GET", path.replace(/\*/g, "x"), subresource(dest));
          const context = `${name} GET ${path} (${dest})`;
          assert.equal(res.status, 403, `${context}: ${res.status} ${res.body.slice(0, 200)}`);
          assert.equal(res.headers["access-control-allow-origin"], undefined, context);
          assert.ok(!res.body.includes("tandem_"), `${context}: leaked metrics`);
        }
      }
    }
    // An <object> or <embed> loads as a navigation, but fires `error` on a failed status: refused too.
    for (const dest of ["object", "embed"]) {
      const res = await send(locked.url, "GET", "/v1/models", { ...subresource(dest), "sec-fetch-mode": "navigate" });
      assert.equal(res.status, 403, `<${dest}>: ${res.status}`);
    }
    const models = await send(open.url, "GET", "/v1/models", subresource("script"));
    assert.match(JSON.parse(models.body).error.message, /cross-site/);
    assert.deepEqual(
      upstream.requests.filter((r) => r.method !== "GET").map((r) => r.path),
      [],
      "no upstream was called",
    );
  });

  it("still answers a link followed to tandem from another site (a navigation) and the console's own calls", async () => {
    const navigation = await send(open.url, "GET", "/", {
      "sec-fetch-site": "cross-site",
      "sec-fetch-mode": "navigate",
      "sec-fetch-dest": "document",
      accept: "text/html,*/*;q=0.8",
    });
    assert.notEqual(navigation.status, 403, navigation.body);
    // The console's own fetch() of /v1/status: same-origin, no Origin on a GET.
    const own = await send(locked.url, "GET", "/v1/status", {
      "sec-fetch-site": "same-origin",
      "sec-fetch-mode": "cors",
      "sec-fetch-dest": "empty",
      authorization: "Bearer secret-client-key",
    });
    assert.equal(own.status, 200, own.body);
    // A page on this machine (another port) is same-site, and allowed as loopback pages are.
    const sameSite = await send(open.url, "GET", "/v1/models", { ...subresource("script"), "sec-fetch-site": "same-site" });
    assert.equal(sameSite.status, 200, sameSite.body);
    // Clients that are not browsers send no fetch metadata at all, and the user typing the URL sends `none`.
    assert.equal((await send(open.url, "GET", "/v1/models", {})).status, 200);
    assert.equal(
      (await send(open.url, "GET", "/v1/models", { "sec-fetch-site": "none", "sec-fetch-mode": "navigate" })).status,
      200,
    );
  });
});

describe("the same, from a real browser's page", () => {
  it("another site's <script> and <link> see the same failure whether or not tandem needs a key", {
    skip: CHROMIUM === undefined ? "no Chromium found (TANDEM_CHROMIUM, /usr/bin/chromium)" : false,
  }, async () => {
    const browser = await chromium.launch({
      executablePath: CHROMIUM as string,
      headless: true,
      args: [
        ...(process.getuid?.() === 0 ? ["--no-sandbox"] : []),
        // Chromium's own Local Network Access check would stop the page first; Firefox and Safari have
        // none, and a user may have allowed it: tandem must hold without it.
        "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults",
      ],
    });
    try {
      const page = await browser.newPage();
      // The attacker's page, on a public https origin (served by the test, never fetched).
      await page.route("https://evil.example/**", (route) =>
        route.fulfill({ contentType: "text/html", body: "<!doctype html><html><body>evil</body></html>" }),
      );
      await page.goto("https://evil.example/");
      // As a string: the page runs it, not this module (whose compiled helpers it does not have).
      const probe = (url: string) =>
        page.evaluate(`Promise.all(["script", "link", "object"].map((tag) => new Promise((resolve) => {
            const el = document.createElement(tag);
            el.onload = () => resolve(tag + ":load");
            el.onerror = () => resolve(tag + ":error");
            if (tag === "link") { el.rel = "stylesheet"; el.href = ${JSON.stringify(url)}; }
            else if (tag === "object") el.data = ${JSON.stringify(url)};
            else el.src = ${JSON.stringify(url)};
            document.body.appendChild(el);
          })))`);
      // /v1/models answers an open tandem 200 and a locked one 401: the page must not tell them apart.
      for (const path of ["/metrics", "/v1/models"]) {
        const seen = { open: await probe(`${open.url}${path}`), locked: await probe(`${locked.url}${path}`) };
        assert.deepEqual(seen.open, seen.locked, `${path}: ${JSON.stringify(seen)}`);
        assert.deepEqual(seen.open, ["script:error", "link:error", "object:error"], path);
      }
    } finally {
      await browser.close();
    }
  });
});
