import type { IncomingHttpHeaders } from "node:http";
import type { FileSensitivity } from "../../../core/files.js";
import type { ItemSensitivity, StoredItem } from "../../../core/state.js";
import { headerSensitivity, higherSensitivity, SENSITIVITY_HEADER } from "../../../privacy/index.js";

/**
 * Privacy follows the state: a conversation with private (or internal) turns is at least that
 * sensitive on every later request made of it, whatever the new input says — a client's header can
 * raise the level but never lower it below what its stored items carry (the route's privacy decides
 * where such a request may go: local-only, or redacted). The router reads the header before
 * detection, so the request's headers carry a private level (the client's own when they already
 * do); an internal one is the request's `floor` (ChatRequest.sensitivityFloor), which detection can
 * still raise.
 */
export function stateSensitivity(
  headers: IncomingHttpHeaders,
  history: ItemSensitivity | undefined,
): { headers: IncomingHttpHeaders; level: ItemSensitivity | undefined; floor?: "internal" } {
  const declared = headerSensitivity(headers);
  const level = higherSensitivity(declared, history);
  // An internal history the client declared nothing over is the request's floor, not its header: as
  // the header, `internal` would stop detection, and the new input's own private data would go where
  // internal data may (ChatRequest.sensitivityFloor). Private is the top: as the header it loses nothing.
  if (declared === undefined && level === "internal") return { headers, level, floor: "internal" };
  return { headers: level !== undefined && level !== declared ? { ...headers, [SENSITIVITY_HEADER]: level } : headers, level };
}

/**
 * Items a client stores without a model's turn (the Conversations API's create and items calls),
 * marked with the level its `x-tandem-sensitivity` header declares: a value declared private that
 * no detector finds is then kept off cloud targets by every later turn that reads these items,
 * redacting routes included (StoredItem.declaredPrivate: as a file uploaded as private, the
 * declaration is about the content kept, and redaction cannot find it). Undeclared or public:
 * unmarked (detection still reads them on every turn).
 */
export function withDeclaredSensitivity(items: StoredItem[], headers: IncomingHttpHeaders): StoredItem[] {
  const { level } = stateSensitivity(headers, undefined);
  if (level === undefined || level === "public") return items;
  return items.map((stored) => ({
    ...stored,
    sensitivity: level,
    ...(level === "private" && { declaredPrivate: true as const }),
  }));
}

/**
 * The level a file upload declares with `x-tandem-sensitivity`, kept with the file
 * (StoredFile.sensitivity). Undeclared or public: undefined (detection alone, on every use).
 * A bad value is the 400 naming the header.
 */
export function declaredFileSensitivity(headers: IncomingHttpHeaders): FileSensitivity | undefined {
  const { level } = stateSensitivity(headers, undefined);
  return level === undefined || level === "public" ? undefined : level;
}
