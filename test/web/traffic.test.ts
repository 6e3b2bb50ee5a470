/**
 * The console's reading of /metrics: the samples it parses out of Prometheus' text, and the rates
 * it charts between two readings (requests that reached a model per second, mean time to first
 * token), read from a real server's /metrics.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { parseSamples } from "../../web/src/prometheus-text.js";
import { readCounters, TrafficHistory } from "../../web/src/traffic.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

describe("parseSamples", () => {
  it("reads names, escaped label values and numbers, and skips comments and other metrics", () => {
    const text = [
      "# HELP tandem_requests_total Client requests",
      "# TYPE tandem_requests_total counter",
      'tandem_requests_total{dialect="openai",route="",target="a/b",status="200"} 3',
      'tandem_requests_total{dialect="openai",route="",target="we\\"ird\\\\name\\n",status="500"} 1',
      "tandem_other_total 9",
      "tandem_requests_total 2",
      'tandem_requests_total{target="x"} NaN',
    ].join("\n");
    assert.deepEqual(parseSamples(text, new Set(["tandem_requests_total"])), [
      { name: "tandem_requests_total", labels: { dialect: "openai", route: "", target: "a/b", status: "200" }, value: 3 },
      {
        name: "tandem_requests_total",
        labels: { dialect: "openai", route: "", target: 'we"ird\\name\n', status: "500" },
        value: 1,
      },
      { name: "tandem_requests_total", labels: {}, value: 2 },
    ]);
  });
});

describe("TrafficHistory", () => {
  const reading = (at: number, modelRequests: number, ttftSeconds: number, ttftCount: number) => ({
    at,
    modelRequests,
    ttftSeconds,
    ttftCount,
    tokens: new Map(),
  });

  it("charts the rate and mean time to first token between readings, a gap when no first token came, and skips a restart", () => {
    const history = new TrafficHistory();
    history.add(reading(100, 10, 1, 4));
    assert.deepEqual(history.series(), [[], [], []], "one reading says nothing yet");
    history.add(reading(102, 14, 1.4, 8));
    history.add(reading(104, 14, 1.4, 8));
    history.add(reading(106, 2, 0.1, 1)); // tandem restarted: counters went down
    history.add(reading(108, 6, 0.3, 3));
    const [times, rates, ttft] = history.series();
    assert.deepEqual(times, [102, 104, 108]);
    assert.deepEqual(rates, [2, 0, 2]);
    assert.deepEqual(
      ttft.map((ms) => (ms === null || ms === undefined ? ms : Math.round(ms))),
      [100, null, 100],
    );
  });

  it("keeps the last 150 points", () => {
    const history = new TrafficHistory();
    for (let i = 0; i <= 200; i++) history.add(reading(i, i, 0, 0));
    const [times] = history.series();
    assert.equal(times.length, 150);
    assert.equal(times[0], 51);
    assert.equal(times.at(-1), 200);
  });
});

describe("readCounters on a real /metrics", () => {
  let upstream: FakeOpenAIUpstream;
  let tandem: RunningTandem;

  before(async () => {
    upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
    tandem = await startTandem({
      providers: { cloud: { kind: "openai", baseUrl: upstream.url, local: false, models: ["gpt-4o-mini"] } },
    });
  });

  after(async () => {
    await tandem?.close();
    await upstream?.close();
  });

  it("counts the requests that reached a model (not status or metrics reads) and the tokens per target", async () => {
    const metrics = async () => (await fetch(`${tandem.url}/metrics`)).text();
    const before = readCounters(await metrics(), 0);
    upstream.script(() => ({ kind: "text", text: "hi", usage: { input: 7, output: 2 } }));
    const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
    for (let i = 0; i < 2; i++) {
      await client.chat.completions.create({ model: "cloud/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
    }
    for (let i = 0; i < 3; i++) await fetch(`${tandem.url}/v1/status`);
    // The request's counter moves when its response closes, which may come after the client has the answer.
    let after = readCounters(await metrics(), 1);
    for (let i = 0; i < 100 && after.modelRequests - before.modelRequests < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = readCounters(await metrics(), 1);
    }
    assert.equal(after.modelRequests - before.modelRequests, 2);
    assert.equal(after.ttftCount - before.ttftCount, 2);
    assert.deepEqual(after.tokens.get("cloud/gpt-4o-mini"), { input: 14, output: 4 });
  });
});
