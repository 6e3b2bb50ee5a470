import type { ChatRequest } from "../core/request.js";
import { classifyRequest, type RequestClassification, requestTexts } from "./classify-request.js";
import { type DetectionOptions, detectorFor, type SensitiveDataDetector } from "./detector.js";
import type { Finding } from "./finding.js";
import { Redaction } from "./redaction.js";
import {
  higherSensitivity,
  maxSensitivity,
  parseSensitivityHeader,
  SENSITIVITY_HEADER,
  type Sensitivity,
} from "./sensitivity.js";

/** Where a request's data may go: anywhere as it is, only to local targets, or to cloud targets redacted. */
export type PrivacyPolicy = "local-only" | "redact" | "allow";

/** The privacy settings that apply to one request: the config's `privacy` section and its route's. */
export interface PrivacySettings {
  /** The policy for private requests when the route sets none. */
  defaultPolicy: PrivacyPolicy;
  /** The route's `privacy`, if set: applies to private and internal requests. */
  routePolicy?: PrivacyPolicy | undefined;
  /** The route's `sensitivity`, if set: used instead of detection (the header still wins). */
  routeSensitivity?: Sensitivity | undefined;
  /** Whether images (and other content sent inline that cannot be read: PDFs, audio, files) make a request private. */
  imagesArePrivate: boolean;
  /** Detection options (compiled once per object) or a compiled detector. */
  detection: DetectionOptions | SensitiveDataDetector;
}

/** How one request's data is to be treated, worked out before any target is called. */
export interface PrivacyDecision {
  sensitivity: Sensitivity;
  policy: PrivacyPolicy;
  /** Why the request has its level, safe to show and log: counts by kind, or where the level came from. Never a value. */
  reason: string;
  /** Findings per kind (empty when detection did not run). */
  counts: Record<string, number>;
  /** With `redact`: the placeholders to send instead of the values, and to restore in the answer. */
  redaction?: Redaction;
  /**
   * What the client can do when this decision keeps the request on a route's local targets and
   * there are none, where the usual advice would not help (a redacting route cannot redact what the
   * request holds). Default: the usual advice (PrivacyGuard).
   */
  advice?: string;
}

/** What detection found in a request, in the shape the decision needs (chat and embeddings alike). */
interface Detected {
  findings: readonly Finding[];
  counts: Record<string, number>;
  images: number;
  /** Other content sent inline that detection cannot read (NativeRequest's `unread`, and wireOnly's): PDFs, audio, files. */
  unread: number;
  /** Texts placeholders must avoid. */
  texts: () => Iterable<string>;
}

/**
 * The privacy decision for a chat request. Detection runs only when the outcome depends on it;
 * `classified`: the request's classification when it was made beforehand (classifyRequestInSlices,
 * for a large request), with the same detection settings.
 */
export function decideChatPrivacy(
  request: ChatRequest,
  header: string | undefined,
  settings: PrivacySettings,
  classified?: RequestClassification,
): PrivacyDecision {
  return decide(
    header,
    settings,
    () => {
      const found = classified ?? classifyRequest(request, detectorFor(settings.detection));
      let unread = (request.native?.unread ?? 0) + found.unreadFiles;
      for (const part of request.native?.wireOnly ?? []) if (part.unread) unread++;
      return {
        findings: found.findings,
        counts: found.counts,
        images: found.images.length,
        unread,
        texts: () => requestTexts(request),
      };
    },
    request.sensitivityFloor,
    request.declaredPrivate,
  );
}

/**
 * The privacy decision for an embeddings request (its inputs are scanned like user text). `floor`:
 * the least level detection may find (RequestContext.privacyFloor).
 */
export function decideEmbedPrivacy(
  input: readonly string[],
  header: string | undefined,
  settings: PrivacySettings,
  floor?: Sensitivity,
  /** What the inputs are that was declared private where it was kept (a private batch input file's line). */
  declaredContent?: readonly string[],
): PrivacyDecision {
  return decide(
    header,
    settings,
    () => {
      const detector = detectorFor(settings.detection);
      const findings = input.flatMap((text) => detector.detect(text));
      const counts: Record<string, number> = {};
      for (const f of findings) counts[f.kind] = (counts[f.kind] ?? 0) + 1;
      return { findings, counts, images: 0, unread: 0, texts: () => input };
    },
    floor,
    declaredContent,
  );
}

function decide(
  header: string | undefined,
  settings: PrivacySettings,
  detect: () => Detected,
  /** The least level detection may find (ChatRequest.sensitivityFloor): stored state the request carries. */
  floor?: Sensitivity,
  /** What the request holds that was declared private where it was kept (ChatRequest.declaredPrivate). */
  declaredContent?: readonly string[],
): PrivacyDecision {
  const declared = parseSensitivityHeader(header);
  const policyOf = (level: Sensitivity): PrivacyPolicy => {
    if (level === "public") return "allow";
    return settings.routePolicy ?? (level === "private" ? settings.defaultPolicy : "allow");
  };
  if (declaredContent !== undefined && declaredContent.length > 0) return declaredPrivate(declaredContent, policyOf("private"));
  // The route's setting stands in for detection, the stored state's floor under it.
  const route = settings.routeSensitivity;
  const given = declared ?? (route === undefined ? undefined : higherSensitivity(route, floor));
  const source = declared !== undefined ? `header ${SENSITIVITY_HEADER}` : "the route's sensitivity setting";
  // A level that is given and allows everything needs no scan; redaction always needs the findings.
  if (given === "public") return { sensitivity: "public", policy: "allow", reason: `public by ${source}`, counts: {} };
  if (given !== undefined && policyOf(given) !== "redact") {
    return { sensitivity: given, policy: policyOf(given), reason: `${given} by ${source}`, counts: {} };
  }

  const detected = detect();
  let level: Sensitivity = "public";
  for (const f of detected.findings) level = maxSensitivity(level, f.level);
  // What cannot be read cannot be cleared either: an image, or a PDF, audio clip or file sent inline.
  const privateImages = detected.images + detected.unread > 0 && settings.imagesArePrivate;
  if (privateImages) level = "private";
  const raisedByState = given === undefined && floor !== undefined && maxSensitivity(level, floor) !== level;
  if (raisedByState) level = floor;
  const sensitivity = given ?? level;
  const found = Object.entries(detected.counts).map(([kind, n]) => `${n} ${kind}`);
  if (privateImages && detected.images > 0) found.push(`${detected.images} image${detected.images === 1 ? "" : "s"}`);
  if (privateImages && detected.unread > 0)
    found.push(
      `${detected.unread} attachment${detected.unread === 1 ? "" : "s"} that cannot be read (PDF, audio, file, token context)`,
    );
  const reason =
    given !== undefined
      ? `${given} by ${source}`
      : raisedByState
        ? `${level} by the stored conversation${found.length > 0 ? `; found ${found.join(", ")}` : ""}`
        : found.length > 0
          ? `found ${found.join(", ")}`
          : "nothing sensitive found";
  const policy = policyOf(sensitivity);
  if (policy === "redact" && privateImages) {
    // An image (or an attachment) cannot be redacted, so a private one keeps the whole request on the machine.
    const what = detected.images > 0 ? "images" : "attachments";
    return {
      sensitivity,
      policy: "local-only",
      reason: `${reason} (${what} cannot be redacted)`,
      counts: detected.counts,
      advice: `Use a route with a local model, set the route's privacy to allow, or send '${SENSITIVITY_HEADER}: public' if this data may leave the machine.`,
    };
  }
  if (policy !== "redact") return { sensitivity, policy, reason, counts: detected.counts };
  const redaction = new Redaction(detected.findings, { avoid: detected.texts() });
  return { sensitivity, policy, reason, counts: detected.counts, redaction };
}

/**
 * The decision for a request that holds content declared private where it was kept (a memory, a
 * file, stored items: ChatRequest.declaredPrivate): private whatever the header or the route's
 * `sensitivity` say, since what makes it private is the declaration, not anything in the request to
 * find again; and under `redact` kept on local targets, since redaction replaces only what detection
 * finds and would send the rest as it is (as a private image is kept). `allow` still sends it.
 */
function declaredPrivate(what: readonly string[], policy: PrivacyPolicy): PrivacyDecision {
  const reason = `it holds ${[...new Set(what)].join(" and ")}: content declared private where it was kept`;
  // Never "send the header public": it cannot lower a declaration.
  const advice =
    "Use a route with a local model, or set the route's privacy to allow if this data may leave the machine " +
    `(content declared private keeps a request private whatever its ${SENSITIVITY_HEADER} header says).`;
  if (policy === "allow") return { sensitivity: "private", policy, reason, counts: {} };
  if (policy !== "redact") return { sensitivity: "private", policy, reason, counts: {}, advice };
  return {
    sensitivity: "private",
    policy: "local-only",
    reason: `${reason}, which redaction cannot make safe`,
    counts: {},
    advice,
  };
}
