import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayError } from "../../src/core/index.js";
import type { Target } from "../../src/router/catalog.js";
import { applyPreference, readOverrides } from "../../src/router/request-overrides.js";

const target = (name: string, local: boolean): Target =>
  ({ name, providerName: name.split("/")[0], upstreamModel: "m", contextWindow: undefined, local }) as unknown as Target;

const names = (tiers: Target[][]) => tiers.map((tier) => tier.map((t) => t.name));

describe("request overrides", () => {
  const tiers = [[target("cloud1/m", false)], [target("local1/m", true), target("cloud2/m", false)], [target("local2/m", true)]];

  it("prefer local puts every local target first, keeping the rest's tiers", () => {
    assert.deepEqual(names(applyPreference(tiers, "local", () => undefined)), [
      ["local1/m", "local2/m"],
      ["cloud1/m"],
      ["cloud2/m"],
    ]);
  });

  it("prefer cloud puts every cloud target first", () => {
    assert.deepEqual(names(applyPreference(tiers, "cloud", () => undefined)), [
      ["cloud1/m", "cloud2/m"],
      ["local1/m"],
      ["local2/m"],
    ]);
  });

  it("prefer fast orders each tier by observed time to first token, unmeasured last", () => {
    const ttft: Record<string, number> = { "cloud2/m": 50, "local1/m": 400 };
    assert.deepEqual(names(applyPreference(tiers, "fast", (t) => ttft[t])), [
      ["cloud1/m"],
      ["cloud2/m", "local1/m"],
      ["local2/m"],
    ]);
  });

  it("prefer cheap and no preference keep the configured order", () => {
    assert.deepEqual(names(applyPreference(tiers, "cheap", () => undefined)), names(tiers));
    assert.deepEqual(names(applyPreference(tiers, undefined, () => undefined)), names(tiers));
  });

  it("reads the headers and refuses malformed ones with a 400 naming the header", () => {
    assert.deepEqual(readOverrides({ "x-tandem-route": " auto ", "x-tandem-prefer": "LOCAL", "x-tandem-deadline-ms": "1500" }), {
      route: "auto",
      prefer: "local",
      deadlineMs: 1500,
    });
    for (const [name, value] of [
      ["x-tandem-prefer", "soon"],
      ["x-tandem-deadline-ms", "-5"],
      ["x-tandem-deadline-ms", "1.5"],
      ["x-tandem-deadline-ms", "abc"],
      // Forms Number() reads that are not plain decimal digits, and no value at all.
      ["x-tandem-deadline-ms", "0x10"],
      ["x-tandem-deadline-ms", "1e3"],
      ["x-tandem-deadline-ms", "+100"],
      ["x-tandem-deadline-ms", ""],
      ["x-tandem-deadline-ms", " "],
      ["x-tandem-deadline-ms", "0"],
    ]) {
      assert.throws(
        () => readOverrides({ [name as string]: value }),
        (err: unknown) => err instanceof GatewayError && err.status === 400 && err.param === name,
        `${name}: '${value}'`,
      );
    }
  });
});
