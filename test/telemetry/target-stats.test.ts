/**
 * A target's snapshot, as `/v1/status` and the console show it: the documented counters only, not
 * the working parts behind them (the ring of recent time-to-first-event samples).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayError } from "../../src/core/index.js";
import { TargetStats } from "../../src/telemetry/target-stats.js";

describe("TargetStats.snapshot", () => {
  it("gives the documented fields, and no sample ring", () => {
    const stats = new TargetStats();
    for (let i = 0; i < 20; i++) {
      stats.firstEvent("up/m", 10 + i);
      stats.success("up/m", 50);
    }
    stats.failure("up/m", new GatewayError("upstream_error", "boom", { status: 502 }));
    const snapshot = stats.snapshot("up/m");
    assert.deepEqual(Object.keys(snapshot).sort(), [
      "errorRate",
      "failures",
      "lastError",
      "lastSuccessAt",
      "latencyMs",
      "requests",
      "ttftMs",
    ]);
    assert.equal(snapshot.requests, 21);
    assert.equal(snapshot.failures, 1);
    assert.equal(snapshot.lastError?.code, "upstream_error");
  });
});
