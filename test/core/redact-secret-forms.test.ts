/**
 * A key an upstream echoes in another form than it was sent: without its `sk-` prefix, upper-cased,
 * or base64-encoded (alone or inside a longer encoded text, at any alignment). Each is masked; short
 * and common strings are not.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { redactSecrets, rememberSecret, SECRET_MASK } from "../../src/core/redact-secrets.js";

const KEY = "sk-SECRETOPENAIKEY-1234567890abcdef";

describe("a key echoed in another form", () => {
  it("is masked without its prefix, in any case, and in base64 and base64url at every alignment", () => {
    const forms = [
      KEY.slice(3),
      KEY.toUpperCase(),
      KEY.toLowerCase().slice(3),
      Buffer.from(KEY).toString("base64"),
      Buffer.from(KEY).toString("base64url"),
      Buffer.from(`u:${KEY}`).toString("base64"),
      Buffer.from(`us:${KEY}`).toString("base64"),
      Buffer.from(`use:${KEY}!`).toString("base64url"),
    ];
    for (const form of forms) {
      const text = `upstream says: <${form}> end`;
      const given = redactSecrets(text, [KEY]);
      rememberSecret(KEY);
      // As a key given with the request, and as one the process remembers.
      for (const cleaned of [given, redactSecrets(text)]) {
        assert.ok(cleaned.includes(SECRET_MASK), `${form}: ${cleaned}`);
        assert.ok(!cleaned.includes("1234567890"), `${form}: ${cleaned}`);
        assert.ok(!cleaned.toLowerCase().includes("secretopenaikey"), `${form}: ${cleaned}`);
      }
    }
  });

  it("leaves short and common strings alone", () => {
    rememberSecret("sk-abcdefgh");
    const text = "abcdefgh is the alphabet's start; YWJjZGVmZ2g= too; sk- alone";
    assert.equal(redactSecrets(text, ["sk-abcdefgh"]), text);
  });
});
