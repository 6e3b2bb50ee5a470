import { timingSafeEqual } from "node:crypto";

/**
 * The token of a header only this process writes (a background run's turn, a WebSocket connection's
 * turn): its value is `<secret> <token>`, the secret one this process made. Undefined for any other
 * value, so that a client's forged header is read as none; the secret is compared in constant time.
 */
export function tokenOfProcessHeader(value: string | string[] | undefined, secret: string): string | undefined {
  if (typeof value !== "string") return undefined;
  const [presented, token] = value.split(" ");
  if (presented === undefined || token === undefined) return undefined;
  const a = Buffer.from(presented);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b) ? token : undefined;
}
