import type { IncomingHttpHeaders } from "node:http";
import { GatewayError } from "../core/errors.js";
import type { Sensitivity } from "../core/sensitivity.js";

export type { Sensitivity };

/** The levels in increasing order of sensitivity. */
export const SENSITIVITY_LEVELS: readonly Sensitivity[] = ["public", "internal", "private"];

export const SENSITIVITY_HEADER = "x-tandem-sensitivity";

/**
 * Names what a request tandem makes of itself holds that was declared private where tandem keeps it,
 * known from outside the request's body (a batch line of a file uploaded as private): the router
 * holds the request to it as to ChatRequest.declaredPrivate. Only this server's own loopback sets it
 * (LoopbackRequest.declaredPrivate); a client's is dropped as its request arrives (ServerLoopback).
 */
export const DECLARED_PRIVATE_HEADER = "x-tandem-declared-private";

/** What DECLARED_PRIVATE_HEADER names, as ChatRequest.declaredPrivate lists it; undefined when absent. */
export function headerDeclaredPrivate(headers: IncomingHttpHeaders): string[] | undefined {
  const header = headers[DECLARED_PRIVATE_HEADER];
  const values = (Array.isArray(header) ? header : [header]).filter((v): v is string => typeof v === "string" && v !== "");
  return values.length === 0 ? undefined : values;
}

export function isSensitivity(value: unknown): value is Sensitivity {
  return value === "public" || value === "internal" || value === "private";
}

/** The more sensitive of two levels. */
export function maxSensitivity(a: Sensitivity, b: Sensitivity): Sensitivity {
  return SENSITIVITY_LEVELS.indexOf(a) >= SENSITIVITY_LEVELS.indexOf(b) ? a : b;
}

/** The more sensitive of two levels where either may be unknown (undefined); undefined when both are. */
export function higherSensitivity(a: Sensitivity, b: Sensitivity | undefined): Sensitivity;
export function higherSensitivity(a: Sensitivity | undefined, b: Sensitivity): Sensitivity;
export function higherSensitivity(a: Sensitivity | undefined, b: Sensitivity | undefined): Sensitivity | undefined;
export function higherSensitivity(a: Sensitivity | undefined, b: Sensitivity | undefined): Sensitivity | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : maxSensitivity(a, b);
}

/** Whether `level` is at least as sensitive as `floor`. */
export function atLeast(level: Sensitivity, floor: Sensitivity): boolean {
  return SENSITIVITY_LEVELS.indexOf(level) >= SENSITIVITY_LEVELS.indexOf(floor);
}

/**
 * Parses the `x-tandem-sensitivity` header. Absent, empty or blank means "not given" (undefined);
 * the value is trimmed and compared case-insensitively. Anything else is a 400 naming the header.
 */
export function parseSensitivityHeader(header: string | undefined): Sensitivity | undefined {
  if (header === undefined) return undefined;
  const value = header.trim().toLowerCase();
  if (value === "") return undefined;
  if (isSensitivity(value)) return value;
  throw new GatewayError(
    "invalid_request",
    // The value comes last: `header "secret": expected ...` reads as a credential to the secret scrubber.
    `Invalid ${SENSITIVITY_HEADER} header: expected one of ${SENSITIVITY_LEVELS.join(", ")} (got ${JSON.stringify(header.slice(0, 40))})`,
    { param: SENSITIVITY_HEADER },
  );
}

/**
 * The level a request's headers declare (`x-tandem-sensitivity`; its first value when it came twice),
 * as parseSensitivityHeader reads it: undefined when none, a 400 naming the header when bad.
 */
export function headerSensitivity(headers: IncomingHttpHeaders): Sensitivity | undefined {
  const header = headers[SENSITIVITY_HEADER];
  return parseSensitivityHeader(Array.isArray(header) ? header[0] : header);
}

/**
 * The sensitivity a request is handled at: the client's header if it sent one, else the route's
 * setting, else what detection found. The header wins outright, in both directions: a client
 * that says `public` is taken at its word (that is the point of the header); integrators who want
 * detection to be a floor can combine the result with `maxSensitivity` themselves.
 */
export function resolveSensitivity(
  header: string | undefined,
  routeSetting: Sensitivity | undefined,
  detected: Sensitivity,
): Sensitivity {
  return parseSensitivityHeader(header) ?? routeSetting ?? detected;
}
