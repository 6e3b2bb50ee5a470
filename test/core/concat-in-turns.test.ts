import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { concatInTurns } from "../../src/core/concat-in-turns.js";

describe("concatInTurns", () => {
  it("joins chunks as Buffer.concat does", async () => {
    const chunks = [Buffer.from("ab"), Buffer.alloc(0), Buffer.from("cde")];
    assert.deepEqual(await concatInTurns(chunks, 5), Buffer.concat(chunks, 5));
  });

  it("lets the event loop run while it joins a large upload's chunks", async () => {
    const chunks = Array.from({ length: 2048 }, (_, i) => Buffer.alloc(64 * 1024, i % 251));
    const total = chunks.length * 64 * 1024;
    // Turns other work got while the 128 MiB were joined: Buffer.concat gives none.
    let turns = 0;
    let joining = true;
    const tick = () => {
      if (!joining) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const joined = await concatInTurns(chunks, total);
    joining = false;
    assert.equal(joined.length, total);
    assert.equal(joined[64 * 1024 * 300], 300 % 251);
    assert.ok(turns > 1, `other work got ${turns} turns`);
  });
});
