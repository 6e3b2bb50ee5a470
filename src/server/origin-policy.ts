import { GatewayError, isLoopbackName } from "../core/index.js";
import { parseHost } from "./host-check.js";

/** Allowed Origin values remembered, so a browser client's every request costs one map lookup. */
const CACHE_SIZE = 64;

/**
 * Which web origins may call tandem (the `Origin` header browsers send with cross-origin requests
 * and with every POST). Allowed: pages served from this machine (http or https on localhost,
 * *.localhost, 127.0.0.0/8, [::1] or 0.0.0.0, any port), a page on the same host as the request
 * (tandem's own console, also behind a proxy named in allowedHosts), and the origins listed in
 * `server.cors.origins` / `TANDEM_ORIGINS`: exact origins, `*` wildcards (`chrome-extension://*`,
 * `https://*.example.com`), or a lone `*` for any. `null` (sandboxed frames, file: pages, some
 * redirects; any page can produce it) is allowed only when listed as `null`, even with `*`.
 */
export class OriginPolicy {
  readonly #any: boolean;
  readonly #exact = new Set<string>();
  readonly #patterns: RegExp[] = [];
  readonly #allowed = new Map<string, true>();

  constructor(origins: readonly string[]) {
    this.#any = origins.some((o) => o.trim() === "*");
    for (const raw of origins) {
      const origin = raw.trim().toLowerCase().replace(/\/+$/, "");
      if (origin === "" || origin === "*") continue;
      if (origin.includes("*")) this.#patterns.push(globToRegExp(origin));
      else this.#exact.add(origin);
    }
  }

  /** True when a request carrying this Origin may be answered; `host` is its (already allowed) Host header. */
  allows(origin: string, host: string | undefined): boolean {
    if (this.#allowed.has(origin)) return true;
    const ok = this.#decide(origin.toLowerCase(), host);
    // Same-host answers depend on the Host header too, so only host-independent ones are remembered.
    if (ok === "always" && this.#allowed.size < CACHE_SIZE) this.#allowed.set(origin, true);
    return ok !== false;
  }

  #decide(origin: string, host: string | undefined): "always" | "this host" | false {
    if (origin === "null") return this.#exact.has("null") ? "always" : false;
    if (this.#any || this.#exact.has(origin)) return "always";
    for (const pattern of this.#patterns) if (pattern.test(origin)) return "always";
    const match = /^(https?):\/\/([^/?#@]+)$/.exec(origin);
    if (!match?.[2]) return false;
    const authority = match[2];
    const parsed = parseHost(authority);
    if (parsed && (isLoopbackName(parsed.name) || parsed.name === "0.0.0.0")) return "always";
    // Same host as the request's own Host (which passed the host check): tandem's own pages.
    if (host !== undefined && authority === host.toLowerCase()) return "this host";
    return false;
  }
}

/** `*` matches any run of characters; everything else literally. */
function globToRegExp(glob: string): RegExp {
  const source = glob
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${source}$`);
}

/** The 403 for an Origin that is not allowed. */
export function originRefusal(origin: string): GatewayError {
  return new GatewayError(
    "permission_denied",
    `Origin '${origin.slice(0, 200)}' is not allowed: tandem answers web pages served from this machine and the ` +
      "origins listed in server.cors.origins (TANDEM_ORIGINS, comma-separated, e.g. 'chrome-extension://*')",
  );
}
