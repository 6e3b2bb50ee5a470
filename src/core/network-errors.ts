/**
 * The one allow-list of error codes that mean the network failed, not tandem and not the upstream's
 * answer. `GatewayError.from` makes these `unavailable` (retryable, counted against the target);
 * any other code thrown inside tandem (`ERR_INVALID_ARG_TYPE`, `UND_ERR_INVALID_ARG`...) is a bug
 * or a bad input of ours, `internal`, never retried and never held against a target.
 */

/** Error codes (errno and undici) that mean no connection to the upstream was made: no byte of a request left. */
export const CONNECT_FAILURE_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_FAIL",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** Error codes that mean the network path failed (before or during the exchange), not the upstream's answer. */
export const NETWORK_FAILURE_CODES: ReadonlySet<string> = new Set([
  ...CONNECT_FAILURE_CODES,
  "ECONNRESET",
  "ECONNABORTED",
  "ENETRESET",
  "EPIPE",
  "ETIMEDOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

/**
 * TLS failures: the upstream cannot be reached safely (a bad or expired certificate, HTTPS to a
 * plain-HTTP port). About the target, so they count against it, but trying again in a moment will
 * not help.
 */
export const TLS_FAILURE_CODES: ReadonlySet<string> = new Set([
  "EPROTO",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_SSL_WRONG_VERSION_NUMBER",
]);

/**
 * The upstream answered, but not in HTTP/1.1 that can be read: a port that speaks something else
 * (SSH, TLS on a base URL written http://), broken chunked framing, headers past the client's limit.
 * undici's parser errors carry no code, only their name (`HTTPParserError`). About the target, so
 * they count against it, and the same upstream would answer the same again.
 */
export const PROTOCOL_FAILURE_CODES: ReadonlySet<string> = new Set(["UND_ERR_HEADERS_OVERFLOW"]);
export const PROTOCOL_FAILURE_NAMES: ReadonlySet<string> = new Set(["HTTPParserError"]);

/** Codes of time limits that ran out on the way to or from the upstream. */
export const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/** Codes of an abort (ours, or the client's that we passed on). */
export const ABORT_CODES: ReadonlySet<string> = new Set(["ABORT_ERR", "UND_ERR_ABORTED"]);
