/**
 * windowCap is the one rule for how many tokens a sequence of a local model holds: the window the
 * engine loads, the one the memory check sizes, the one a request's num_ctx claims, and the one the
 * model list (and so the router's fitting) reports.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_CONTEXT_CAP, windowCap } from "../../../src/providers/llamacpp/engine-protocol.js";

describe("windowCap", () => {
  it("caps a given window (config, saved or asked num_ctx) at the trained context", () => {
    assert.equal(windowCap(8192, 4096), 4096);
    assert.equal(windowCap(2048, 4096), 2048);
    assert.equal(windowCap(4096, 4096), 4096);
    // Past the default cap too: a configured window is the user's choice, bounded only by training.
    assert.equal(windowCap(65_536, 131_072), 65_536);
  });

  it("leaves a given window as it is when the trained context is unknown or 0", () => {
    assert.equal(windowCap(8192, undefined), 8192);
    assert.equal(windowCap(8192, 0), 8192);
  });

  it("with none given, takes the trained context up to the default cap", () => {
    assert.equal(windowCap(undefined, 131_072), DEFAULT_CONTEXT_CAP);
    assert.equal(windowCap(undefined, 2048), 2048);
    assert.equal(windowCap(undefined, undefined), undefined);
    assert.equal(windowCap(undefined, 0), 0);
  });
});
