import { hostname, networkInterfaces } from "node:os";
import { GatewayError, isLoopbackName } from "../core/index.js";

export interface HostPolicyOptions {
  /** The address the server is bound to (`server.host`). */
  bindHost: string;
  /** `server.allowedHosts`: names with or without a port, `*.example.com`, or `*` for any. */
  allowedHosts: readonly string[];
}

/** A host name and port as the `Host` header carries them, lower-cased, brackets and trailing dot removed. */
interface HostPort {
  name: string;
  port: string | undefined;
}

/** How long a list of the machine's addresses is trusted before a miss reads it again. */
const INTERFACES_TTL_MS = 5000;
/** Allowed Host values remembered, so the usual one costs one map lookup. */
const CACHE_SIZE = 64;

/**
 * Which `Host` headers the server answers: the DNS-rebinding guard. A page that rebinds its own name
 * (attacker.example) to 127.0.0.1 reaches tandem as a same-origin page, but its browser still sends
 * `Host: attacker.example`; only names that cannot be rebound are answered: loopback names and
 * addresses (localhost, *.localhost, 127.0.0.0/8, [::1]; 0.0.0.0 and [::] as well, which reach this
 * machine and, being address literals, cannot be rebound), the bound address (when bound to 0.0.0.0
 * or ::, the machine's own interface addresses and host name), and what `server.allowedHosts` lists.
 * A request without a Host header (HTTP/1.0 tools) is answered: every browser sends one, so its
 * absence cannot come from a web page.
 */
export class HostPolicy {
  readonly #bindHost: string;
  readonly #wildcardBind: boolean;
  readonly #anyHost: boolean;
  readonly #exact: HostPort[] = [];
  readonly #suffixes: HostPort[] = [];
  readonly #allowed = new Map<string, true>();
  #interfaces: Set<string> | undefined;
  #interfacesReadAt = 0;

  constructor(options: HostPolicyOptions) {
    this.#bindHost = normalizeName(options.bindHost);
    this.#wildcardBind = this.#bindHost === "0.0.0.0" || this.#bindHost === "::";
    this.#anyHost = options.allowedHosts.some((entry) => entry.trim() === "*");
    for (const entry of options.allowedHosts) {
      const parsed = parseHost(entry.trim());
      if (!parsed) continue;
      if (parsed.name.startsWith("*.")) this.#suffixes.push({ name: parsed.name.slice(1), port: parsed.port });
      else this.#exact.push(parsed);
    }
  }

  /** True when a request with this `Host` header may be answered. */
  allows(host: string | undefined): boolean {
    if (host === undefined || host === "" || this.#anyHost) return true;
    if (this.#allowed.has(host)) return true;
    const ok = this.#decide(host);
    if (ok && this.#allowed.size < CACHE_SIZE) this.#allowed.set(host, true);
    return ok;
  }

  #decide(header: string): boolean {
    const host = parseHost(header);
    if (!host) return false;
    const { name } = host;
    if (isLoopbackName(name) || name === "0.0.0.0" || name === "::") return true;
    if (name === this.#bindHost) return true;
    if (this.#wildcardBind && (this.#machineAddresses().has(name) || isMachineName(name))) return true;
    for (const entry of this.#exact) if (entry.name === name && portMatches(entry, host)) return true;
    for (const entry of this.#suffixes) if (name.endsWith(entry.name) && portMatches(entry, host)) return true;
    return false;
  }

  /** The machine's interface addresses, read again at most every few seconds (a miss may be a new DHCP lease). */
  #machineAddresses(): Set<string> {
    const now = Date.now();
    if (!this.#interfaces || now - this.#interfacesReadAt > INTERFACES_TTL_MS) {
      const addresses = new Set<string>();
      for (const list of Object.values(networkInterfaces())) {
        for (const info of list ?? []) addresses.add(normalizeName(info.address.split("%")[0] ?? ""));
      }
      this.#interfaces = addresses;
      this.#interfacesReadAt = now;
    }
    return this.#interfaces;
  }
}

/** The 403 for a Host that is not this machine's. */
export function hostRefusal(host: string): GatewayError {
  return new GatewayError(
    "permission_denied",
    `Host '${host.slice(0, 100)}' is not allowed: tandem answers requests addressed to this machine (localhost, ` +
      "127.0.0.1, [::1] or the address it is bound to) and to the names listed in server.allowedHosts " +
      "(TANDEM_ALLOWED_HOSTS), so that a web page cannot reach it by pointing its own name at 127.0.0.1",
  );
}

/** Parses `name`, `name:port`, `[v6]` or `[v6]:port`; undefined when it is none of them. */
export function parseHost(value: string): HostPort | undefined {
  let name: string;
  let port: string | undefined;
  if (value.startsWith("[")) {
    const close = value.indexOf("]");
    if (close < 0) return undefined;
    name = value.slice(1, close);
    const rest = value.slice(close + 1);
    if (rest !== "") {
      if (!rest.startsWith(":")) return undefined;
      port = rest.slice(1);
    }
  } else {
    const colon = value.indexOf(":");
    if (colon >= 0) {
      if (value.indexOf(":", colon + 1) >= 0) return undefined;
      name = value.slice(0, colon);
      port = value.slice(colon + 1);
    } else {
      name = value;
    }
  }
  if (port !== undefined && !/^(\d{1,5}|\*)$/.test(port)) return undefined;
  name = normalizeName(name);
  return name === "" ? undefined : { name, port };
}

function normalizeName(name: string): string {
  let n = name.toLowerCase();
  if (n.startsWith("[") && n.endsWith("]")) n = n.slice(1, -1);
  if (n.endsWith(".")) n = n.slice(0, -1);
  return n;
}

/** An entry without a port (or with `:*`) matches any port; one with a port, only that port. */
function portMatches(entry: HostPort, host: HostPort): boolean {
  return entry.port === undefined || entry.port === "*" || entry.port === host.port;
}

function isMachineName(name: string): boolean {
  const own = hostname().toLowerCase();
  return name === own || name === `${own}.local`;
}
