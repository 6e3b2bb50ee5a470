import { readKey } from "./session-key.js";

/** A failed call to the server: its HTTP status (0 when it could not be reached) and its message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }

  /** The server wants a key (none given, or a wrong one). */
  get needsKey(): boolean {
    return this.status === 401;
  }
}

/**
 * GET (or another method) on this server (same origin: the page's CSP allows no other), with the
 * session's key as a bearer header when there is one. Answers the body as text; errors as ApiError
 * with the server's own message (OpenAI's error shape), shown as text.
 */
export async function getText(
  path: string,
  signal: AbortSignal,
  key = readKey(),
  method: "GET" | "DELETE" = "GET",
): Promise<string> {
  const headers: Record<string, string> = { accept: "application/json, text/plain" };
  if (key !== undefined && key !== "") headers.authorization = `Bearer ${key}`;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, signal, cache: "no-store", credentials: "omit", redirect: "error" });
  } catch (err) {
    if (signal.aborted) throw err;
    throw new ApiError(0, "tandem cannot be reached (is it still running?)");
  }
  const body = await res.text();
  if (!res.ok) throw new ApiError(res.status, errorMessage(body) ?? `HTTP ${res.status}`);
  return body;
}

export async function getJson<T>(path: string, signal: AbortSignal, key?: string): Promise<T> {
  return JSON.parse(await getText(path, signal, key)) as T;
}

/** DELETE on this server, as getJson reads. */
export async function deleteJson<T>(path: string, signal: AbortSignal, key?: string): Promise<T> {
  return JSON.parse(await getText(path, signal, key, "DELETE")) as T;
}

function errorMessage(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } | string };
    if (typeof parsed.error === "string") return parsed.error;
    if (typeof parsed.error?.message === "string") return parsed.error.message;
  } catch {
    // not JSON
  }
  return body.trim().slice(0, 300) || undefined;
}
