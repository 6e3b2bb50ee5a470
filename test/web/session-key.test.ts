/**
 * A key the browser cannot put in a header (fetch throws a TypeError for it) is said so when it is
 * typed, rather than read as tandem being unreachable.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { unsendableKey } from "../../web/src/session-key.js";

describe("unsendableKey", () => {
  it("lets through what fetch sends: printable ASCII and Latin-1", () => {
    for (const key of ["sk-local-123", "key with spaces", "clé-ÿ", "\ttabbed"]) assert.equal(unsendableKey(key), undefined, key);
  });

  it("names the character fetch refuses: past U+00FF, NUL, CR, LF", () => {
    assert.match(unsendableKey("ключ") ?? "", /U\+043A/);
    assert.match(unsendableKey("sk-\u{1F511}") ?? "", /U\+1F511/);
    for (const key of ["a\nb", "a\rb", "a\0b"]) assert.match(unsendableKey(key) ?? "", /cannot be sent/, JSON.stringify(key));
  });

  it("agrees with the Headers class on every character up to U+0100", () => {
    for (let code = 0; code <= 0x100; code++) {
      const key = `k${String.fromCodePoint(code)}k`;
      let sendable = true;
      try {
        new Headers({ authorization: `Bearer ${key}` });
      } catch {
        sendable = false;
      }
      assert.equal(unsendableKey(key) === undefined, sendable, `U+${code.toString(16)}`);
    }
  });
});
