import { canPrompt, type PromptIo, promptHidden } from "./prompt-hidden.js";

/** Where the CLI's client commands find the server: --url, else TANDEM_URL, else the default bind. */
export function serverUrl(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (option) return option.replace(/\/+$/, "");
  if (env.TANDEM_URL) return env.TANDEM_URL.replace(/\/+$/, "");
  const host = env.TANDEM_HOST && env.TANDEM_HOST !== "0.0.0.0" ? env.TANDEM_HOST : "127.0.0.1";
  return `http://${host.includes(":") ? `[${host}]` : host}:${env.TANDEM_PORT ?? "1337"}`;
}

export function authHeaders(key: string | undefined): Record<string, string> {
  return key ? { authorization: `Bearer ${key}` } : {};
}

/**
 * The client key a command sends: TANDEM_API_KEY, or `--key`, which still works but any user of the
 * machine can read a command line (`ps`), so it earns a warning. `asks`: the command asks for the key
 * on a terminal after a 401 (fetchWithKey), so the warning may offer that instead.
 */
export function clientKey(
  option: string | undefined,
  command: string,
  options: { asks?: boolean; env?: NodeJS.ProcessEnv; stderr?: { write(text: string): unknown } } = {},
): string | undefined {
  const { env = process.env, stderr = process.stderr } = options;
  if (option !== undefined) {
    const instead = options.asks ? "set TANDEM_API_KEY instead, or leave it out to be asked" : "set TANDEM_API_KEY instead";
    stderr.write(`tandem ${command}: warning: --key is visible to other users of this machine (ps); ${instead}\n`);
    return option;
  }
  return env.TANDEM_API_KEY || undefined;
}

/**
 * Sends a request with the client key; when the server answers 401 and stdin is a terminal, asks for
 * the key (hidden) and sends it once more. Returns the answer and the key that got it.
 */
export async function fetchWithKey(
  send: (headers: Record<string, string>) => Promise<Response>,
  key: string | undefined,
  url: string,
  io: PromptIo = { stdin: process.stdin, stderr: process.stderr },
): Promise<{ res: Response; key: string | undefined }> {
  const res = await send(authHeaders(key));
  if (res.status !== 401 || !canPrompt(io)) return { res, key };
  await res.body?.cancel();
  const typed = (await promptHidden(io, `API key for tandem at ${url} (input hidden): `)).trim();
  if (!typed) return { res: await send(authHeaders(key)), key };
  return { res: await send(authHeaders(typed)), key: typed };
}

/**
 * What a command prints for the server's error answer: its message (OpenAI's and Anthropic's
 * `error.message`, Ollama's `error`) and the status, as `tandem ps` prints one; the body as it came
 * only when it holds no message.
 */
export async function errorAnswerText(res: Response): Promise<string> {
  const text = await res.text();
  let message: string | undefined;
  try {
    const body = JSON.parse(text) as { error?: string | { message?: unknown } };
    const found = typeof body.error === "string" ? body.error : body.error?.message;
    if (typeof found === "string" && found !== "") message = found;
  } catch {
    // Not JSON (a proxy's page): the text itself, cut short, is all there is to say.
  }
  return `${message ?? (text.slice(0, 300) || res.statusText)} (${res.status})`;
}

/** Socket errors that mean nothing answers at the address (not that tandem answered badly). */
const NOT_ANSWERING = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
]);

/**
 * A message for a request that got no answer, saying what to do: start tandem, or point the command at
 * it. fetch's own "fetch failed" says neither, and hides the reason in its cause.
 */
export function describeFetchError(url: string, err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const start = "start it with 'tandem serve' (npm start), or point at it with --url or TANDEM_URL";
  if (cause?.code !== undefined && NOT_ANSWERING.has(cause.code)) {
    return `cannot reach tandem at ${url}: nothing answers there (${cause.code}); ${start}`;
  }
  // fetch refuses the ports browsers block (9, 25, 6000...) before it connects.
  if (cause?.message === "bad port") {
    return `cannot reach tandem at ${url}: fetch refuses to connect to that port (one browsers block); serve tandem on another port`;
  }
  const reason = cause?.message ? `${(err as Error).message} (${cause.message})` : (err as Error).message;
  return `cannot reach tandem at ${url}: ${reason}; is tandem running? ${start}`;
}
