import { isIPv4, isIPv6 } from "node:net";

/** localhost, *.localhost (browsers resolve these to loopback themselves), 127.0.0.0/8, ::1 and ::ffff:127.x. */
export function isLoopbackName(name: string): boolean {
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  if (isIPv4(name)) return name.startsWith("127.");
  if (!isIPv6(name)) return false;
  return name === "::1" || /^(0{1,4}:){7}0{0,3}1$/.test(name) || /^::ffff:(127\.|7f[0-9a-f]{2}:)/.test(name);
}

/** Whether a URL's host is this machine (isLoopbackName); false for text that is not a URL. */
export function isLoopbackUrl(url: string): boolean {
  if (!URL.canParse(url)) return false;
  return isLoopbackName(new URL(url).hostname.replace(/^\[|\]$/g, ""));
}
