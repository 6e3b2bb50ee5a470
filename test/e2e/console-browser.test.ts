/**
 * The web console in a real browser (the system's Chromium, driven by playwright-core, headless):
 * it loads under its CSP with no console error and no CSP violation, shows the configured targets
 * with their health, follows the traffic (a request made shows in its target's row), shows what
 * left the machine in the egress audit, renders an upstream's error text as text, shows the stored
 * state (a conversation made through /v1/responses: listed, opened as text, deleted), and asks for
 * the key when server.apiKeys is set. One browser for the file; skipped, saying why, when no
 * Chromium is installed (.ci/run installs it where apt-get can).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { consoleBundleDir } from "../support/console-bundle.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

/** The system Chromium: TANDEM_CHROMIUM, else the usual Debian/Ubuntu paths. */
const CHROMIUM = [process.env.TANDEM_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find(
  (path): path is string => path !== undefined && path !== "" && existsSync(path),
);
const SKIP =
  CHROMIUM === undefined ? "no Chromium found (TANDEM_CHROMIUM, /usr/bin/chromium): .ci/run installs it with apt-get" : false;

const TARGET = "cloud/gpt-4o-mini";
const WAIT = { timeout: 20_000 };

/** A page whose console errors, uncaught errors and CSP violations are collected. */
interface WatchedPage {
  page: Page;
  problems: string[];
}

async function watchedPage(context: BrowserContext, origin: string): Promise<WatchedPage> {
  const page = await context.newPage();
  const problems: string[] = [];
  // Nothing fetched from anywhere else (no CDN, no font, no beacon).
  page.on("request", (request) => {
    if (new URL(request.url()).origin !== origin) problems.push(`request to another origin: ${request.url()}`);
  });
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  return { page, problems };
}

/** CSP violations the page saw (reported by the securitypolicyviolation listener the context installs). */
async function violations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __violations?: string[] }).__violations ?? []);
}

describe("the web console in Chromium", { skip: SKIP }, () => {
  let browser: Browser;
  let context: BrowserContext;
  let upstream: FakeOpenAIUpstream;
  let tandem: RunningTandem;
  let bundle: string;

  before(async () => {
    bundle = await consoleBundleDir();
    upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
    tandem = await startTandem(
      {
        providers: { cloud: { kind: "openai", baseUrl: upstream.url, local: false, models: ["gpt-4o-mini"] } },
        routes: { auto: { tiers: [TARGET], retry: { attempts: 1 } } },
      },
      { consoleDir: bundle, store: true },
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM as string,
      headless: true,
      // Chromium refuses to run as root with its sandbox on (CI runs as root).
      args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
    });
    context = await browser.newContext();
    // Injected by the browser itself (not subject to the page's CSP): records any violation.
    await context.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (event) => {
        const w = window as unknown as { __violations?: string[] };
        w.__violations = [...(w.__violations ?? []), `${event.violatedDirective} ${event.blockedURI}`];
      });
    });
  });

  after(async () => {
    await browser?.close();
    await tandem?.close();
    await upstream?.close();
  });

  it("loads with no console error or CSP violation, shows each target with its health, then follows a request", async () => {
    const { page, problems } = await watchedPage(context, tandem.url);
    const response = await page.goto(`${tandem.url}/`);
    assert.equal(response?.status(), 200);
    const row = page.locator(`tr[data-target="${TARGET}"]`);
    await row.waitFor(WAIT);
    // No request yet: health unknown, no requests counted.
    assert.equal(await row.locator("[data-health]").getAttribute("data-health"), "unknown");
    assert.equal((await row.locator('[data-field="requests"]').textContent())?.trim(), "0");
    await page.locator("text=auto").first().waitFor(WAIT);
    assert.equal((await page.locator(".chart canvas").count()) > 0, true, "the chart is drawn");

    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
    await client.chat.completions.create({ model: TARGET, messages: [{ role: "user", content: "hello" }] });
    // The next refresh shows it (the page polls every 2 s).
    await page.locator(`tr[data-target="${TARGET}"] [data-health="healthy"]`).waitFor(WAIT);
    await page.waitForFunction(
      (target) => document.querySelector(`tr[data-target="${target}"] [data-field="requests"]`)?.textContent === "1",
      TARGET,
      WAIT,
    );
    assert.deepEqual(await violations(page), []);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it("renders an upstream's error text as text, never as HTML", async () => {
    const hostile = `<img src=x onerror="window.__xss=1"><b id="injected">bold</b>`;
    upstream.script(() => ({ kind: "error", status: 500, message: hostile }));
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
    await assert.rejects(client.chat.completions.create({ model: TARGET, messages: [{ role: "user", content: "fail" }] }));
    upstream.script(() => ({ kind: "text", text: "ok", usage: { input: 3, output: 1 } }));

    const { page, problems } = await watchedPage(context, tandem.url);
    await page.goto(`${tandem.url}/`);
    const cell = page.locator(`tr[data-target="${TARGET}"] td.last-error`);
    await page.waitForFunction(
      (target) => document.querySelector(`tr[data-target="${target}"] td.last-error`)?.textContent?.includes("onerror"),
      TARGET,
      WAIT,
    );
    assert.match((await cell.textContent()) ?? "", /<img src=x onerror=/, "shown as the text it is");
    assert.equal(await cell.locator("img, b").count(), 0, "no element made from it");
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
    assert.deepEqual(await violations(page), []);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it("shows what left the machine in the egress audit", async () => {
    const { page, problems } = await watchedPage(context, tandem.url);
    await page.goto(`${tandem.url}/`);
    await page.getByRole("button", { name: "Egress audit" }).click();
    // Only this test's request goes through the route `auto`: its row is the one to wait for.
    const routed = () =>
      page.evaluate(
        () =>
          [...document.querySelectorAll("tr[data-audit-id]")].filter(
            (row) => row.querySelector('[data-field="route"]')?.textContent === "auto",
          ).length,
      );
    await page.locator("table.audit, [data-empty=audit]").first().waitFor(WAIT);
    assert.equal(await routed(), 0, "no row of the route before its request");
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
    await client.chat.completions.create({ model: "auto", messages: [{ role: "user", content: "to the cloud" }] });
    // The first page refreshes itself every few seconds.
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll("tr[data-audit-id]")].some(
          (row) => row.querySelector('[data-field="route"]')?.textContent === "auto",
        ),
      undefined,
      WAIT,
    );
    const newest = page.locator("tr[data-audit-id]").first();
    assert.equal(await newest.locator('[data-field="route"]').textContent(), "auto", "newest first");
    const text = (await newest.textContent()) ?? "";
    assert.ok(text.includes(TARGET), text);
    assert.ok(text.includes("public"), `the sensitivity is shown: ${text}`);
    assert.deepEqual(await violations(page), []);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it("shows a conversation made through /v1/responses in the State view, opens it as text, and deletes it", async () => {
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
    upstream.script(() => ({ kind: "text", text: "Paris, <i>of course</i>.", usage: { input: 9, output: 4 } }));
    const conversation = await client.conversations.create({});
    const question = `Where is the <b id="injected">Louvre</b>? ${"and more ".repeat(60)}`;
    await client.responses.create({ model: TARGET, input: question, conversation: conversation.id });
    const older = await client.conversations.create({ items: [{ type: "message", role: "user", content: "an older one" }] });
    // The one the response went to changed last: it is listed first.
    await client.conversations.items.create(conversation.id, {
      items: [{ type: "function_call_output", call_id: "call_1", output: "tool said 42" }],
    });

    const { page, problems } = await watchedPage(context, tandem.url);
    await page.goto(`${tandem.url}/`);
    await page.getByRole("button", { name: "State", exact: true }).click();
    const row = page.locator(`li[data-entry-id="${conversation.id}"]`);
    await row.waitFor(WAIT);
    assert.equal(await page.locator("li[data-entry-id]").first().getAttribute("data-entry-id"), conversation.id, "newest first");
    const title = (await row.locator(".entry-title").textContent()) ?? "";
    assert.ok(title.startsWith('Where is the <b id="injected">Louvre</b>?'), title);
    assert.ok(title.length <= 200, "the preview is bounded");
    assert.ok(((await row.textContent()) ?? "").includes("3 items"));

    await row.locator("button.entry").click();
    await row.locator('[data-item-type="function_call_output"]').waitFor(WAIT);
    const items = await row.locator("ol.items > li").allTextContents();
    assert.equal(items.length, 3, items.join(" | "));
    assert.ok(items[0]?.startsWith("user") && items[0].includes('<b id="injected">Louvre</b>'), items[0]);
    assert.ok(items[1]?.startsWith("assistant") && items[1].includes("Paris, <i>of course</i>."), items[1]);
    assert.ok(items[2]?.includes("tool said 42"), items[2]);
    assert.equal(await page.locator("#injected, .entry-detail i").count(), 0, "text, never HTML");

    // Delete asks first; keeping it keeps it.
    await row.getByRole("button", { name: "Delete…" }).click();
    await row.getByRole("button", { name: "Keep" }).click();
    assert.equal((await client.conversations.retrieve(conversation.id)).id, conversation.id);
    await row.getByRole("button", { name: "Delete…" }).click();
    await row.getByRole("button", { name: "Delete", exact: true }).click();
    await row.waitFor({ state: "detached", ...WAIT });
    await assert.rejects(client.conversations.retrieve(conversation.id), (err: unknown) => err instanceof OpenAI.NotFoundError);
    // The other stays; a fresh read of the list agrees.
    await page.getByRole("button", { name: "Refresh" }).click();
    await page.locator(`li[data-entry-id="${older.id}"]`).waitFor(WAIT);
    assert.equal(await page.locator(`li[data-entry-id="${conversation.id}"]`).count(), 0);

    // The stored response that made it is listed under Responses, with its answer.
    await page.getByRole("button", { name: "Responses", exact: true }).click();
    const response = page.locator("li[data-entry-id^='resp_']").first();
    await response.waitFor(WAIT);
    await response.locator("button.entry").click();
    await response.locator("h3", { hasText: "Answer" }).waitFor(WAIT);
    assert.ok(((await response.locator(".entry-detail").textContent()) ?? "").includes("Paris, <i>of course</i>."));
    assert.deepEqual(await violations(page), []);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it("asks for the key when server.apiKeys is set, says when it is wrong, and keeps the right one in sessionStorage only", async () => {
    const key = "browser-console-key-41d7";
    const locked = await startTandem(
      { providers: { cloud: { kind: "openai", baseUrl: upstream.url, local: false, models: ["gpt-4o-mini"] } } },
      { consoleDir: bundle, clientKeys: [key] },
    );
    const { page, problems } = await watchedPage(context, locked.url);
    try {
      await page.goto(`${locked.url}/`);
      const input = page.locator('input[name="api-key"]');
      await input.waitFor(WAIT);
      assert.equal(await input.getAttribute("type"), "password");
      assert.equal(await page.locator("tr[data-target]").count(), 0, "no data before the key");

      await input.fill("not-the-key");
      await page.getByRole("button", { name: "Open the console" }).click();
      await page.locator(".key-prompt .error").waitFor(WAIT);
      assert.match((await page.locator(".key-prompt .error").textContent()) ?? "", /refused/);
      assert.equal(await page.evaluate(() => sessionStorage.length), 0, "a refused key is not kept");

      await input.fill(key);
      await page.getByRole("button", { name: "Open the console" }).click();
      await page.locator(`tr[data-target="${TARGET}"]`).waitFor(WAIT);
      assert.equal(await page.evaluate(() => sessionStorage.getItem("tandem.apiKey")), key);
      assert.equal(await page.evaluate(() => localStorage.length), 0, "nothing in localStorage");
      assert.ok(!page.url().includes(key), "the key is never in the URL");

      // A reload keeps it for the tab: no prompt.
      await page.reload();
      await page.locator(`tr[data-target="${TARGET}"]`).waitFor(WAIT);
      assert.equal(await page.locator('input[name="api-key"]').count(), 0);
      // The State view reads the lists with the same key.
      await page.getByRole("button", { name: "State", exact: true }).click();
      await page.locator("[data-empty=state]").waitFor(WAIT);
      assert.equal(await page.locator('input[name="api-key"]').count(), 0);
      assert.deepEqual(await violations(page), []);
      // Chromium logs each 401 the page asked for (before the key, and the wrong key) as a failed
      // resource; nothing else may appear.
      assert.deepEqual(
        problems.filter((p) => !/Failed to load resource: the server responded with a status of 401/.test(p)),
        [],
      );
    } finally {
      await page.close();
      await locked.close();
    }
  });
});
