/** hostedToolName: the name a server's tool is offered under, valid as a function name and never shared by two tools. */
import assert from "node:assert/strict";
import { it } from "node:test";
import { hostedToolName } from "../../src/core/index.js";

const VALID = /^[a-zA-Z0-9_-]{1,64}$/;

it("keeps a plain name as Claude Code writes it", () => {
  assert.equal(hostedToolName("files", "read_file"), "mcp__files__read_file");
});

it("gives every other name a digest, so names alike once cleaned or cut stay apart", () => {
  const names = [
    hostedToolName("docs", "get.page"),
    hostedToolName("docs", "get_page"),
    hostedToolName("docs", `${"x".repeat(70)}a`),
    hostedToolName("docs", `${"x".repeat(70)}b`),
    hostedToolName("docs", "résumé"),
  ];
  for (const name of names) assert.match(name, VALID);
  assert.equal(new Set(names).size, names.length);
});

it("tells a label with '__' in it from a tool name with it", () => {
  const a = hostedToolName("a", "b__c");
  const b = hostedToolName("a__b", "c");
  assert.notEqual(a, b);
  assert.match(b, VALID);
  // Deterministic: a stored call is made into the same name on a later turn.
  assert.equal(hostedToolName("a__b", "c"), b);
});
