import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ChatRequest, GatewayError } from "../../src/core/index.js";
import { decideChatPrivacy, decideEmbedPrivacy, type PrivacySettings } from "../../src/privacy/index.js";

const BASE: PrivacySettings = { defaultPolicy: "local-only", imagesArePrivate: true, detection: {} };

function ask(text: string, image = false): ChatRequest {
  return {
    model: "auto",
    stream: false,
    messages: [
      { role: "system", content: "You are helpful." },
      {
        role: "user",
        content: [
          { type: "text", text },
          ...(image
            ? [{ type: "image" as const, source: { kind: "base64" as const, mediaType: "image/png", data: "iVBORw0KGgo=" } }]
            : []),
        ],
      },
    ],
  };
}

const PII = "Mail ana.canary@example.org or call +1 415-555-0134 about card 4111 1111 1111 1111.";

describe("privacy decision", () => {
  it("keeps a request with personal data on the machine by default, saying what was found (never the values)", () => {
    const d = decideChatPrivacy(ask(PII), undefined, BASE);
    assert.equal(d.sensitivity, "private");
    assert.equal(d.policy, "local-only");
    assert.deepEqual(d.counts, { email: 1, phone: 1, payment_card: 1 });
    assert.match(d.reason, /found 1 email, 1 phone, 1 payment_card/);
    assert.doesNotMatch(d.reason, /example\.org|4111/);
    assert.equal(d.redaction, undefined);
  });

  it("lets an ordinary request go anywhere", () => {
    const d = decideChatPrivacy(ask("What is the capital of France? Version 1.2.3.4 of the tool."), undefined, BASE);
    assert.equal(d.sensitivity, "public");
    assert.equal(d.policy, "allow");
  });

  it("follows the configured default for private requests, and the route's policy over it", () => {
    assert.equal(decideChatPrivacy(ask(PII), undefined, { ...BASE, defaultPolicy: "allow" }).policy, "allow");
    assert.equal(
      decideChatPrivacy(ask(PII), undefined, { ...BASE, defaultPolicy: "allow", routePolicy: "local-only" }).policy,
      "local-only",
    );
  });

  it("redacts under a redact policy: values out, placeholders in, restored afterwards", () => {
    const d = decideChatPrivacy(ask(PII), undefined, { ...BASE, routePolicy: "redact" });
    assert.equal(d.policy, "redact");
    assert.ok(d.redaction);
    const sent = JSON.stringify(d.redaction.redactRequest(ask(PII)));
    assert.doesNotMatch(sent, /ana\.canary|555-0134|4111/);
    assert.match(sent, /\[EMAIL_1\].*\[PHONE_1\].*\[CARD_1\]/);
    assert.equal(d.redaction.rehydrateText("Sure, [EMAIL_1]."), "Sure, ana.canary@example.org.");
  });

  it("keeps a private image on the machine even under redact (an image cannot be redacted)", () => {
    const d = decideChatPrivacy(ask("What is in this picture?", true), undefined, { ...BASE, routePolicy: "redact" });
    assert.equal(d.sensitivity, "private");
    assert.equal(d.policy, "local-only");
    assert.match(d.reason, /1 image.*images cannot be redacted/);
    const allowed = decideChatPrivacy(ask("What is in this picture?", true), undefined, { ...BASE, imagesArePrivate: false });
    assert.equal(allowed.policy, "allow");
  });

  it("counts content sent inline that cannot be read (a PDF, audio) as it counts images", () => {
    const request: ChatRequest = {
      ...ask("What does the attachment say?"),
      native: {
        wire: "anthropic-messages",
        body: {},
        headers: {},
        lost: () => [],
        wireOnly: [
          { param: "messages[0].content[1]", what: "a PDF document", unread: true },
          { param: "messages[0].content[2]", what: "a document from an uploaded file" },
        ],
      },
    };
    const d = decideChatPrivacy(request, undefined, { ...BASE, routePolicy: "redact" });
    assert.equal(d.sensitivity, "private");
    assert.equal(d.policy, "local-only");
    assert.match(d.reason, /found 1 attachment that cannot be read.*attachments cannot be redacted/);
    assert.equal(decideChatPrivacy(request, undefined, { ...BASE, imagesArePrivate: false }).policy, "allow");
    const byReference = { ...request, native: { ...request.native, wireOnly: [{ param: "x", what: "a file" }] } } as ChatRequest;
    assert.equal(decideChatPrivacy(byReference, undefined, BASE).sensitivity, "public");
    // Inline content outside wireOnly (a file in a stored Responses history) counts the same.
    const inHistory = { ...request, native: { ...request.native, wireOnly: [], unread: 2 } } as ChatRequest;
    const history = decideChatPrivacy(inHistory, undefined, BASE);
    assert.equal(history.sensitivity, "private");
    assert.match(history.reason, /found 2 attachments that cannot be read/);
  });

  it("takes the client's header over detection, in both directions", () => {
    const pub = decideChatPrivacy(ask(PII), "public", BASE);
    assert.equal(pub.sensitivity, "public");
    assert.equal(pub.policy, "allow");
    assert.deepEqual(pub.counts, {}, "a request declared public is not scanned");
    const priv = decideChatPrivacy(ask("Nothing to see here."), " Private ", BASE);
    assert.equal(priv.sensitivity, "private");
    assert.equal(priv.policy, "local-only");
    assert.match(priv.reason, /header x-tandem-sensitivity/);
  });

  it("still scans a request declared private on a redact route, so its values can be replaced", () => {
    const d = decideChatPrivacy(ask(PII), "private", { ...BASE, routePolicy: "redact" });
    assert.equal(d.policy, "redact");
    assert.equal(d.redaction?.size, 3);
  });

  it("uses the route's sensitivity when the client sends none", () => {
    const d = decideChatPrivacy(ask("Nothing to see here."), undefined, { ...BASE, routeSensitivity: "private" });
    assert.equal(d.sensitivity, "private");
    assert.equal(d.policy, "local-only");
    assert.match(d.reason, /route's sensitivity/);
    assert.equal(decideChatPrivacy(ask(PII), undefined, { ...BASE, routeSensitivity: "public" }).policy, "allow");
  });

  it("treats internal keywords as internal: allowed unless the route sets a policy", () => {
    const settings: PrivacySettings = { ...BASE, detection: { keywords: [{ words: ["Project Falcon"] }] } };
    const d = decideChatPrivacy(ask("Status of project falcon?"), undefined, settings);
    assert.equal(d.sensitivity, "internal");
    assert.equal(d.policy, "allow");
    assert.equal(
      decideChatPrivacy(ask("Status of project falcon?"), undefined, { ...settings, routePolicy: "local-only" }).policy,
      "local-only",
    );
  });

  it("rejects a malformed header as a request error naming it", () => {
    assert.throws(
      () => decideChatPrivacy(ask("hi"), "secret", BASE),
      (err: unknown) => err instanceof GatewayError && err.status === 400 && err.param === "x-tandem-sensitivity",
    );
  });

  it("scans embedding inputs like user text", () => {
    const d = decideEmbedPrivacy(["plain text", "SSN 123-45-6789"], undefined, { ...BASE, routePolicy: "redact" });
    assert.equal(d.sensitivity, "private");
    assert.equal(d.policy, "redact");
    assert.equal(d.redaction?.redactText("SSN 123-45-6789"), "SSN [SSN_1]");
    assert.equal(decideEmbedPrivacy(["plain text"], undefined, BASE).policy, "allow");
  });
});

describe("privacy decision with a stored floor (ChatRequest.sensitivityFloor)", () => {
  const floored = (text: string): ChatRequest => ({ ...ask(text), sensitivityFloor: "internal" });

  it("is at least the floor, and says it came from the stored conversation", () => {
    const d = decideChatPrivacy(floored("What next?"), undefined, BASE);
    assert.equal(d.sensitivity, "internal");
    assert.equal(d.policy, "allow");
    assert.match(d.reason, /internal by the stored conversation/);
    assert.equal(
      decideChatPrivacy(floored("What next?"), undefined, { ...BASE, routePolicy: "local-only" }).policy,
      "local-only",
    );
  });

  it("is raised by what detection finds in the new input (the floor does not stop detection)", () => {
    const d = decideChatPrivacy(floored(PII), undefined, BASE);
    assert.equal(d.sensitivity, "private");
    assert.equal(d.policy, "local-only");
  });

  it("yields to the client's header, and raises the route's sensitivity setting", () => {
    assert.equal(decideChatPrivacy(floored(PII), "public", BASE).sensitivity, "public");
    assert.equal(
      decideChatPrivacy(floored("What next?"), undefined, { ...BASE, routeSensitivity: "public" }).sensitivity,
      "internal",
    );
  });
});

describe("privacy decision for content declared private where it was kept (ChatRequest.declaredPrivate)", () => {
  const declared = (text: string): ChatRequest => ({ ...ask(text), declaredPrivate: ["a private memory"] });

  it("keeps the request on the machine under redact, since redaction cannot find what the declaration protects", () => {
    const d = decideChatPrivacy(declared(PII), undefined, { ...BASE, routePolicy: "redact" });
    assert.equal(d.sensitivity, "private");
    assert.equal(d.policy, "local-only");
    assert.equal(d.redaction, undefined);
    assert.match(d.reason, /a private memory: content declared private where it was kept, which redaction cannot make safe/);
    assert.match(d.advice ?? "", /set the route's privacy to allow/);
  });

  it("is private whatever the header or the route's sensitivity say", () => {
    for (const header of ["public", "internal", undefined]) {
      const d = decideChatPrivacy(declared("Hello."), header, { ...BASE, routePolicy: "redact", routeSensitivity: "public" });
      assert.equal(d.sensitivity, "private", String(header));
      assert.equal(d.policy, "local-only", String(header));
    }
  });

  it("follows a route that keeps private data local or lets it go as it is", () => {
    const local = decideChatPrivacy(declared("Hello."), undefined, BASE);
    assert.equal(local.policy, "local-only");
    // Its advice never says to send the header public, which cannot lower a declaration.
    assert.match(local.advice ?? "", /whatever its x-tandem-sensitivity header says/);
    assert.doesNotMatch(local.advice ?? "", /: public'/);
    assert.equal(decideChatPrivacy(declared("Hello."), undefined, { ...BASE, routePolicy: "allow" }).policy, "allow");
  });

  it("without it, a request the client declares private is still redacted on a redact route", () => {
    const d = decideChatPrivacy(ask(PII), "private", { ...BASE, routePolicy: "redact" });
    assert.equal(d.policy, "redact");
    assert.ok(d.redaction);
  });
});
