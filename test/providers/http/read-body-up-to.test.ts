/**
 * readBodyUpTo reads a whole upstream answer from the stream's events: the body whole, nothing past
 * the limit held (the read stops and the body is destroyed), and an error or an early close rejects as
 * `for await` over the body would.
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { readBodyUpTo } from "../../../src/providers/http/answer-limits.js";

/** A body that gives `pieces` one read at a time, then ends (or does what `end` says). */
function body(pieces: string[], end: "end" | "error" | "close" = "end"): Readable {
  let i = 0;
  return new Readable({
    read() {
      if (i < pieces.length) {
        this.push(Buffer.from(pieces[i++] as string));
        return;
      }
      if (end === "end") this.push(null);
      else if (end === "error") this.destroy(new Error("connection reset"));
      else this.destroy();
    },
  });
}

describe("readBodyUpTo", () => {
  it("answers the whole body, in one piece or several", async () => {
    assert.equal((await readBodyUpTo(body(['{"a":1}']), 100))?.toString(), '{"a":1}');
    assert.equal((await readBodyUpTo(body(['{"a":', "1", "}"]), 100))?.toString(), '{"a":1}');
    assert.equal((await readBodyUpTo(body([]), 100))?.length, 0);
  });

  it("stops at the limit: undefined, the body destroyed, nothing more read", async () => {
    let reads = 0;
    const endless = new Readable({
      read() {
        reads++;
        this.push(Buffer.alloc(1024, 120));
      },
    });
    assert.equal(await readBodyUpTo(endless, 4096), undefined);
    assert.equal(endless.destroyed, true);
    const after = reads;
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(reads, after);
    // Exactly at the limit is whole.
    assert.equal((await readBodyUpTo(body(["ab", "cd"]), 4))?.toString(), "abcd");
  });

  it("answers undefined at once for a declared length past the limit, without reading", async () => {
    const b = body(["x".repeat(10)]);
    assert.equal(await readBodyUpTo(b, 5, "10"), undefined);
    assert.equal(b.destroyed, true);
    assert.equal((await readBodyUpTo(body(["xx"]), 5, ["2"]))?.toString(), "xx");
  });

  it("rejects on an error mid-body and on a body closed before its end", async () => {
    await assert.rejects(readBodyUpTo(body(["{"], "error"), 100), /connection reset/);
    await assert.rejects(readBodyUpTo(body(["{"], "close"), 100), { code: "ERR_STREAM_PREMATURE_CLOSE" });
  });
});
