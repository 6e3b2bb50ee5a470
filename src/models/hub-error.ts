import type { IncomingHttpHeaders } from "node:http";
import { GatewayError } from "../core/index.js";
import type { HubConnection } from "./hub-connection.js";

export interface HubErrorContext {
  hub: HubConnection;
  repo: string;
  /** The file asked for, when the request was for one. */
  file?: string;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Turns a hub error answer into a GatewayError whose message says what to do. The hub names the
 * problem in `X-Error-Code` (RepoNotFound, GatedRepo, EntryNotFound, RevisionNotFound) and
 * `X-Error-Message`; it answers 401 for a missing repo as well as a private or gated one when no
 * token is sent, so a 401 cannot tell those apart.
 */
export function hubError(status: number, headers: IncomingHttpHeaders, context: HubErrorContext): GatewayError {
  const code = header(headers, "x-error-code");
  const hubMessage = header(headers, "x-error-message");
  const { repo, file, hub } = context;
  const tokenHint = hub.token
    ? "HF_TOKEN was sent: check that its account can read this repo"
    : "set HF_TOKEN if it is private or gated";
  const page = `${hub.endpoint}/${repo}`;

  if (code === "GatedRepo") {
    const what = hub.token
      ? `accept its conditions on ${page} with the account HF_TOKEN belongs to`
      : `set HF_TOKEN to a token of an account that accepted its conditions on ${page}`;
    return new GatewayError(status === 401 ? "authentication" : "permission_denied", `${repo} is a gated repo: ${what}`, {
      status,
    });
  }
  if (code === "EntryNotFound") {
    return new GatewayError("not_found", `${repo} has no file '${file ?? "?"}'`, { status: 404 });
  }
  if (code === "RevisionNotFound") {
    return new GatewayError("not_found", `${repo} has no revision 'main'`, { status: 404 });
  }
  if (status === 401 && hubMessage?.toLowerCase().includes("invalid credentials")) {
    return new GatewayError("authentication", `the hub rejected HF_TOKEN (${hubMessage}): check the token`, { status });
  }
  if (code === "RepoNotFound" || status === 401 || status === 404) {
    const subject = file && code !== "RepoNotFound" && status === 404 ? `'${file}' in ${repo}` : `repo ${repo}`;
    return new GatewayError(status === 401 ? "authentication" : "not_found", `${subject} not found or gated: ${tokenHint}`, {
      status,
    });
  }
  if (status === 403) {
    return new GatewayError(
      "permission_denied",
      `access to ${repo} denied${hubMessage ? ` (${hubMessage})` : ""}: ${tokenHint}`,
      {
        status,
      },
    );
  }
  if (status === 429) {
    const retryAfter = Number(header(headers, "retry-after"));
    return new GatewayError(
      "rate_limited",
      `the hub is rate-limiting requests${hubMessage ? ` (${hubMessage})` : ""}; try again later`,
      {
        status,
        retryAfterMs: Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined,
      },
    );
  }
  const detail = hubMessage ? `: ${hubMessage}` : "";
  if (status >= 500) return new GatewayError("upstream_error", `the hub answered ${status}${detail}`, { status: 502 });
  return new GatewayError("upstream_error", `the hub answered ${status} for ${repo}${file ? `/${file}` : ""}${detail}`, {
    status: 502,
    retryable: false,
  });
}

/** A request that got no answer: the hub unreachable, the connection lost, or the caller's abort. */
export function hubNetworkError(err: unknown, url: string, signal: AbortSignal | undefined): GatewayError {
  if (signal?.aborted) return new GatewayError("canceled", "canceled", { cause: err });
  const normalized = GatewayError.from(err);
  if (normalized.code === "canceled") return normalized;
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const code = (err as { code?: string }).code ?? cause?.code;
  const why = cause?.message ?? (err as Error).message ?? String(err);
  return new GatewayError(
    normalized.code === "internal" ? "unavailable" : normalized.code,
    `cannot reach ${new URL(url).origin}: ${why}${code && !why.includes(code) ? ` (${code})` : ""}`,
    {
      cause: err,
      retryable: true,
    },
  );
}
