/** Where the CLI's client commands find the server: --url, else TANDEM_URL, else the default bind. */
export function serverUrl(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (option) return option.replace(/\/+$/, "");
  if (env.TANDEM_URL) return env.TANDEM_URL.replace(/\/+$/, "");
  const host = env.TANDEM_HOST && env.TANDEM_HOST !== "0.0.0.0" ? env.TANDEM_HOST : "127.0.0.1";
  return `http://${host.includes(":") ? `[${host}]` : host}:${env.TANDEM_PORT ?? "1337"}`;
}

export function authHeaders(key: string | undefined, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const k = key ?? env.TANDEM_API_KEY;
  return k ? { authorization: `Bearer ${k}` } : {};
}

/** A friendlier message when the server is not there. */
export function describeFetchError(url: string, err: unknown): string {
  const cause = (err as { cause?: { code?: string } }).cause;
  if (cause?.code === "ECONNREFUSED") return `cannot reach tandem at ${url}: is 'tandem serve' (npm start) running?`;
  return `request to ${url} failed: ${(err as Error).message}`;
}
