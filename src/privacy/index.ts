/**
 * tandem's privacy layer, pure building blocks: find personal data and secrets in a request,
 * decide how sensitive it is, and redact it reversibly (values out before a request leaves the
 * machine, back in as the answer streams). No I/O here; the router wires these in.
 *
 * Decisions worth knowing when wiring this in:
 * - Every built-in finding is `private`; custom patterns default to `private`, keyword lists to
 *   `internal`. Images count as private (their content is not inspected) unless
 *   `imagesArePrivate: false`; an http(s) image URL is scanned like text.
 * - IPv4: loopback, 0.0.0.0, broadcast and netmasks are not reported; a dotted quad directly
 *   after a letter (`v1.2.3.4`), after a version-ish word (`version`, `build`, `python`,
 *   `section`...) or inside a longer dotted run (OIDs) is not an address. Private ranges are.
 * - Hex strings (git SHAs, digests, UUIDs) are never high-entropy tokens; a hex secret is only
 *   found by a known format or as the value of a `secret=`/`api_key:` assignment.
 * - Placeholders are `[KIND_n]`, or `[KIND_n_Rk]` when the request already contains text of the
 *   first shape. They are restored exactly or case-insensitively; a model that adds spaces
 *   inside one or escapes it (`\[EMAIL\_1\]`) gets it back unrestored.
 * - `resolveSensitivity`: the header wins in both directions, then the route, then detection.
 * - `decideChatPrivacy`: a private request follows its route's policy, else the default
 *   (local-only); an internal one its route's policy, else allow. A private image under `redact`
 *   makes the request local-only, since an image cannot be redacted; so does content declared
 *   private where it was kept (ChatRequest.declaredPrivate), which no header lowers.
 * - Every string of a client's own body is read, keys included, but for what body-strings.ts
 *   lists; identifiers by every detector but the high-entropy one.
 */
export {
  classifyRequest,
  classifyRequestInSlices,
  type FindingLocation,
  type ImageLocation,
  type LocatedFinding,
  type RequestClassification,
  requestTextLength,
  requestTexts,
  type SettingLocation,
} from "./classify-request.js";
export { type DetectionOptions, detectorFor, detectSensitiveData, SensitiveDataDetector } from "./detector.js";
export { type CustomPattern, type KeywordList, PrivacyConfigError } from "./detectors/custom.js";
export { detectEmails } from "./detectors/email.js";
export { detectHighEntropyTokens, isHighEntropyToken, shannonEntropy } from "./detectors/high-entropy.js";
export { detectIbans, ibanChecksumValid } from "./detectors/iban.js";
export { detectIpAddresses } from "./detectors/ip-address.js";
export { cardNetwork, detectPaymentCards, luhnValid } from "./detectors/payment-card.js";
export { detectPhoneNumbers } from "./detectors/phone.js";
export { detectSecrets } from "./detectors/secret.js";
export { detectSsns } from "./detectors/ssn.js";
export { BUILTIN_KINDS, type BuiltinKind, type Finding, type FindingKind, resolveOverlaps } from "./finding.js";
export { placeholderLabel } from "./placeholder.js";
export { PlaceholderRestorer } from "./placeholder-restorer.js";
export {
  decideChatPrivacy,
  decideEmbedPrivacy,
  type PrivacyDecision,
  type PrivacyPolicy,
  type PrivacySettings,
} from "./privacy-decision.js";
export { type RedactedNativeBody, redactNativeBody } from "./redact-native-body.js";
export { Redaction, type RedactionOptions, type RedactionSummary } from "./redaction.js";
export {
  atLeast,
  DECLARED_PRIVATE_HEADER,
  headerDeclaredPrivate,
  headerSensitivity,
  higherSensitivity,
  isSensitivity,
  maxSensitivity,
  parseSensitivityHeader,
  resolveSensitivity,
  SENSITIVITY_HEADER,
  SENSITIVITY_LEVELS,
  type Sensitivity,
} from "./sensitivity.js";
