import { BlockList, isIP } from "node:net";

/** What an IP address reaches: this machine, a private network, a link-local one, no single host, or the internet. */
export type AddressKind = "loopback" | "private" | "link-local" | "not-a-host" | "public";

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

const PRIVATE = new BlockList();
PRIVATE.addSubnet("10.0.0.0", 8, "ipv4");
PRIVATE.addSubnet("172.16.0.0", 12, "ipv4");
PRIVATE.addSubnet("192.168.0.0", 16, "ipv4");
// Carrier-grade NAT, and Tailscale's addresses.
PRIVATE.addSubnet("100.64.0.0", 10, "ipv4");
PRIVATE.addSubnet("fc00::", 7, "ipv6");

const LINK_LOCAL = new BlockList();
// Where clouds serve an instance's metadata and credentials (169.254.169.254, fd00:ec2::254 aside).
LINK_LOCAL.addSubnet("169.254.0.0", 16, "ipv4");
LINK_LOCAL.addSubnet("fe80::", 10, "ipv6");

const NOT_A_HOST = new BlockList();
NOT_A_HOST.addSubnet("0.0.0.0", 8, "ipv4");
NOT_A_HOST.addSubnet("224.0.0.0", 3, "ipv4");
NOT_A_HOST.addAddress("::", "ipv6");
NOT_A_HOST.addSubnet("ff00::", 8, "ipv6");

/** The kind of an IP address (IPv4, IPv6, or IPv4 mapped into IPv6); `not-a-host` for text that is no address. */
export function addressKind(address: string): AddressKind {
  let ip = address.replace(/^\[|\]$/g, "").split("%")[0] ?? "";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1] !== undefined) ip = mapped[1];
  const family = isIP(ip) === 4 ? "ipv4" : isIP(ip) === 6 ? "ipv6" : undefined;
  if (family === undefined) return "not-a-host";
  if (LOOPBACK.check(ip, family)) return "loopback";
  if (NOT_A_HOST.check(ip, family)) return "not-a-host";
  if (LINK_LOCAL.check(ip, family)) return "link-local";
  if (PRIVATE.check(ip, family)) return "private";
  return "public";
}

/**
 * Why a server a request named by URL (`server_url`) may not be reached at this address, or
 * undefined. Never a link-local address (a cloud's metadata service and its credentials) or one that
 * is no single host. This machine's and private networks' addresses only when tandem's clients are
 * all on this machine (`clientsAreLocal`): a client on this machine reaches them itself, but a client
 * across the network must not reach this machine's own services, or its network's, through tandem.
 */
export function requestServerAddressRefusal(address: string, clientsAreLocal: boolean): string | undefined {
  const kind = addressKind(address);
  if (kind === "public") return undefined;
  if ((kind === "loopback" || kind === "private") && clientsAreLocal) return undefined;
  const what =
    kind === "link-local"
      ? "a link-local address (where clouds serve instance metadata)"
      : kind === "not-a-host"
        ? "an address that is no single host"
        : kind === "loopback"
          ? "this machine, and tandem takes requests from other machines (server.host or server.allowedHosts)"
          : "a private network, and tandem takes requests from other machines (server.host or server.allowedHosts)";
  return `its server_url resolves to ${address}, ${what}; configure the server in mcp.servers to use it`;
}
