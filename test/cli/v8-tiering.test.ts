import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { V8_TIERING_FLAGS } from "../../src/cli/v8-tiering.js";

describe("the server's V8 tiering flags", () => {
  // setFlagsFromString ignores a flag V8 does not know, so a Node whose V8 renamed one would lose
  // the faster warm-up without a word: this is where that shows.
  it("are flags this Node's V8 knows, with values of their type", () => {
    const options = execFileSync(process.execPath, ["--v8-options"], { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
    for (const flag of V8_TIERING_FLAGS) {
      const [name, value] = flag.replace(/^--/, "").split("=") as [string, string];
      const described = new RegExp(`^\\s+--${name} \\(.*\\)\\n\\s+type: int\\b`, "m");
      assert.match(options, described, `${name} is not an int flag of V8 ${process.versions.v8}`);
      assert.match(value, /^\d+$/);
    }
  });
});
