/**
 * The provider registry's two lists (the entries, and the schemas zod needs as a literal tuple) must
 * name the same kinds, and each entry must declare what the catalog asks of it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configSchema } from "../../src/config/index.js";
import { providerConfigSchema, providerKind } from "../../src/providers/registry.js";

describe("provider registry", () => {
  const kinds = providerConfigSchema.options.map((schema) => schema.shape.kind.value);

  it("has an entry, with its capabilities, for every kind the config accepts", () => {
    assert.ok(kinds.length >= 4, kinds.join(", "));
    for (const kind of kinds) {
      const entry = providerKind(kind);
      assert.ok(entry, `no registry entry for '${kind}'`);
      assert.equal(entry.configSchema.shape.kind.value, kind);
      assert.equal(typeof entry.capabilities.local, "boolean");
      assert.ok(["free", "configured"].includes(entry.capabilities.pricing), kind);
      assert.ok(["engine", "upstream"].includes(entry.capabilities.discovery), kind);
    }
  });

  it("refuses an unknown kind in the config, naming the field", () => {
    const parsed = configSchema.safeParse({ providers: { x: { kind: "nope" } } });
    assert.equal(parsed.success, false);
    assert.deepEqual(parsed.error?.issues[0]?.path, ["providers", "x", "kind"]);
  });
});
