/** Error codes (errno and undici) that mean no connection to the upstream was made: no byte of a request left. */
export const CONNECT_FAILURE_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** Error codes that mean the network path failed (before or during the exchange), not the upstream's answer. */
export const NETWORK_FAILURE_CODES: ReadonlySet<string> = new Set([
  ...CONNECT_FAILURE_CODES,
  "ECONNRESET",
  "ETIMEDOUT",
  "UND_ERR_SOCKET",
]);
