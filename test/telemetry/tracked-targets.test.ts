/**
 * Which target names telemetry keeps state for: those the configuration and the model lists name,
 * and names clients chose once their upstream answered them, a bounded number per provider.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TrackedTargets } from "../../src/telemetry/tracked-targets.js";

function named(names: string[], providers = ["nl"]) {
  return { generation: 0, namedTargets: () => new Set(names), hasProvider: (p: string) => providers.includes(p) };
}

describe("TrackedTargets", () => {
  it("tracks named targets from the start and others once admitted, up to the cap per provider", () => {
    const targets = new TrackedTargets(named(["nl/listed"], ["nl", "an"]), 2);
    assert.equal(targets.name("nl/listed"), "nl/listed");
    assert.equal(targets.name("nl/a"), "nl/other");
    targets.admit("nl/a");
    targets.admit("nl/b");
    targets.admit("nl/c");
    targets.admit("an/x");
    assert.deepEqual(
      ["nl/a", "nl/b", "nl/c", "an/x", "an/y"].map((t) => targets.name(t)),
      ["nl/a", "nl/b", "nl/other", "an/x", "an/other"],
    );
    // A named target takes no room of the cap, and the shared name is never admitted as a name of its own.
    targets.admit("an/other");
    targets.admit("an/z");
    assert.equal(targets.name("an/z"), "an/z");
  });

  it("leaves a name of no configured provider (tandem's own) and an empty one as they are", () => {
    const targets = new TrackedTargets(named([]));
    assert.equal(targets.name("tandem/notice"), "tandem/notice");
    assert.equal(targets.name(""), "");
  });

  it("reads the named targets again when the catalog's generation changes", () => {
    const catalog = { generation: 0, names: ["nl/a"], namedTargets: () => new Set(catalog.names), hasProvider: () => true };
    const targets = new TrackedTargets(catalog);
    assert.equal(targets.name("nl/b"), "nl/other");
    catalog.names = ["nl/a", "nl/b"];
    catalog.generation++;
    assert.equal(targets.name("nl/b"), "nl/b");
  });
});
