/**
 * The log destination: the lines of one event-loop turn go out in one write, in order, none held
 * past that turn; a burst past the threshold is written at once; a descriptor that cannot be
 * written costs lines, never an exception.
 */
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { stdoutDestination } from "../../src/telemetry/logger.js";

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("log destination", () => {
  it("writes a turn's lines together once the turn is over, in order", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "tandem-log-")), "out.log");
    const fd = openSync(file, "w");
    try {
      const out = stdoutDestination(fd);
      for (let i = 0; i < 100; i++) out.write(`{"n":${i},"text":"é ✓"}\n`);
      assert.equal(readFileSync(file, "utf8"), "", "nothing is written during the turn");
      await nextTurn();
      const lines = readFileSync(file, "utf8").trim().split("\n");
      assert.equal(lines.length, 100);
      assert.deepEqual(
        lines.map((l) => JSON.parse(l).n),
        Array.from({ length: 100 }, (_, i) => i),
      );
      assert.equal(JSON.parse(lines[0] ?? "").text, "é ✓");
      // A burst larger than the threshold does not wait for the turn to end.
      out.write(`${"x".repeat(70 * 1024)}\n`);
      assert.ok(readFileSync(file, "utf8").length > 70 * 1024);
      out.write("last\n");
      out.flush();
      assert.ok(readFileSync(file, "utf8").endsWith("last\n"));
    } finally {
      closeSync(fd);
    }
  });

  it("drops lines it cannot write instead of throwing", async () => {
    const fd = openSync(join(mkdtempSync(join(tmpdir(), "tandem-log-")), "ro.log"), "w");
    closeSync(fd);
    const out = stdoutDestination(fd);
    out.write("lost\n");
    assert.doesNotThrow(() => out.flush());
    await nextTurn();
  });
});
