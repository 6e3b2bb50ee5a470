import { Command, type CommanderError, InvalidArgumentError } from "commander";
import { authHeaders, clientKey, describeFetchError, serverUrl } from "./client.js";
import { type CommandIo, EXIT_FAILED, EXIT_USAGE, processIo } from "./command-io.js";
import { formatTable } from "./text-table.js";

/** What `tandem memory` talks to: the process's own unless a test passes its own. */
export interface MemoryCommandIo extends CommandIo {
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  /** Where `add` reads the text when none is given (a pipe or a file). Default: none (the text is required). */
  stdin?: AsyncIterable<string | Buffer> & { isTTY?: boolean };
}

interface ClientOptions {
  url?: string;
  key?: string;
  json?: boolean;
}

interface MemoryJson {
  id: string;
  text: string;
  created_at: number;
  sensitivity: string;
  metadata?: Record<string, string>;
  score?: number;
}

const URL_HELP = "server URL (TANDEM_URL; default http://127.0.0.1:1337)";
const KEY_HELP = "client API key; prefer TANDEM_API_KEY (--key shows in ps)";

function parseLimit(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 100)
    throw new InvalidArgumentError(`expected a whole number from 1 to 100, got '${text}'`);
  return n;
}

function parsePair(text: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = text.indexOf("=");
  if (at <= 0) throw new InvalidArgumentError(`expected key=value, got '${text}'`);
  return { ...previous, [text.slice(0, at)]: text.slice(at + 1) };
}

/**
 * `tandem memory add|list|search|forget`: the running server's memories, through its `/v1/memories`
 * API (the server owns the encrypted store and the embedding model).
 */
export function memoryCommand(io: MemoryCommandIo = processIo()): Command {
  const command = new Command("memory")
    .description("what every model should remember about you: add, list, search and forget memories")
    .exitOverride((err: CommanderError) => io.exit(err.exitCode === 0 ? 0 : EXIT_USAGE))
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });
  const client = (sub: Command) =>
    sub
      .option("--url <url>", URL_HELP)
      .option("--key <key>", KEY_HELP)
      .option("--json", "print JSON")
      .exitOverride((err: CommanderError) => io.exit(err.exitCode === 0 ? 0 : EXIT_USAGE))
      .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });

  command.addCommand(
    client(new Command("add"))
      .description(
        "remember something (its sensitivity is detected; --private marks it private); without text, it is read from stdin, " +
          "which other users of this machine cannot see (a command line shows in ps)",
      )
      .argument("[text...]", "what to remember")
      .option("--private", "mark it private: it is only ever sent to models on this machine")
      .option("-m, --metadata <key=value>", "a metadata pair (repeatable)", parsePair)
      .action(async (words: string[], opts: ClientOptions & { private?: boolean; metadata?: Record<string, string> }) => {
        let text = words.join(" ");
        if (text === "") {
          if (io.stdin === undefined || io.stdin.isTTY) {
            io.stderr.write("tandem memory add: give the text to remember, or pipe it in (echo '...' | tandem memory add)\n");
            io.setExitCode(EXIT_USAGE);
            return;
          }
          for await (const chunk of io.stdin) text += chunk.toString();
        }
        const body = {
          text,
          ...(opts.private && { sensitivity: "private" }),
          ...(opts.metadata && { metadata: opts.metadata }),
        };
        io.setExitCode(
          await ask(
            io,
            opts,
            "add",
            "POST",
            "/v1/memories",
            body,
            (memory: MemoryJson) => `remembered ${memory.id} (${memory.sensitivity})\n`,
          ),
        );
      }),
  );
  command.addCommand(
    client(new Command("list"))
      .description("list memories, newest first")
      .option("-n, --limit <n>", "at most this many (1-100)", parseLimit, 20)
      .option("--after <id>", "the page after this memory")
      .action(async (opts: ClientOptions & { limit: number; after?: string }) => {
        const query = new URLSearchParams({ limit: String(opts.limit), ...(opts.after && { after: opts.after }) });
        io.setExitCode(
          await ask(
            io,
            opts,
            "list",
            "GET",
            `/v1/memories?${query}`,
            undefined,
            (list: { data: MemoryJson[]; has_more: boolean }) =>
              list.data.length === 0
                ? "no memories\n"
                : table(list.data, false) + (list.has_more ? `(more: --after ${list.data.at(-1)?.id})\n` : ""),
          ),
        );
      }),
  );
  command.addCommand(
    client(new Command("search"))
      .description("the memories most relevant to a text, best first")
      .argument("<query...>", "what to look for")
      .option("-n, --limit <n>", "at most this many (1-100)", parseLimit, 10)
      .action(async (words: string[], opts: ClientOptions & { limit: number }) => {
        const query = new URLSearchParams({ query: words.join(" "), limit: String(opts.limit) });
        io.setExitCode(
          await ask(io, opts, "search", "GET", `/v1/memories?${query}`, undefined, (list: { data: MemoryJson[] }) =>
            list.data.length === 0 ? "no memory matches\n" : table(list.data, true),
          ),
        );
      }),
  );
  command.addCommand(
    client(new Command("forget"))
      .description("forget memories for good (the row, its vector and its index entries are overwritten)")
      .argument("<id...>", "memory ids (mem_...)")
      .action(async (ids: string[], opts: ClientOptions) => {
        let code = 0;
        for (const id of ids) {
          const result = await ask(
            io,
            opts,
            "forget",
            "DELETE",
            `/v1/memories/${encodeURIComponent(id)}`,
            undefined,
            () => `forgot ${id}\n`,
          );
          code = Math.max(code, result);
        }
        io.setExitCode(code);
      }),
  );
  return command;
}

/** One call to the server's API: its JSON printed (--json) or rendered; an error answer printed to stderr. */
async function ask<T>(
  io: MemoryCommandIo,
  opts: ClientOptions,
  verb: string,
  method: string,
  path: string,
  body: unknown,
  render: (answer: T) => string,
): Promise<number> {
  const url = serverUrl(opts.url, io.env);
  const key = clientKey(opts.key, `memory ${verb}`, { env: io.env, stderr: io.stderr });
  let res: Response;
  try {
    res = await (io.fetch ?? fetch)(`${url}${path}`, {
      method,
      headers: { ...authHeaders(key), ...(body !== undefined && { "content-type": "application/json" }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  } catch (err) {
    io.stderr.write(`tandem memory ${verb}: ${describeFetchError(url, err)}\n`);
    return EXIT_FAILED;
  }
  const text = await res.text();
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    io.stderr.write(`tandem memory ${verb}: ${res.status} ${text.slice(0, 300)}\n`);
    return EXIT_FAILED;
  }
  if (!res.ok) {
    const message = (answer as { error?: { message?: string } }).error?.message ?? text.slice(0, 300);
    io.stderr.write(`tandem memory ${verb}: ${message}\n`);
    return EXIT_FAILED;
  }
  io.stdout.write(opts.json ? `${JSON.stringify(answer, null, 2)}\n` : render(answer as T));
  return 0;
}

function table(memories: readonly MemoryJson[], scored: boolean): string {
  return formatTable([
    ["ID", "CREATED (UTC)", "SENSITIVITY", ...(scored ? ["SCORE"] : []), "TEXT"],
    ...memories.map((m) => [
      m.id,
      new Date(m.created_at * 1000).toISOString().replace("T", " ").slice(0, 19),
      m.sensitivity,
      ...(scored ? [(m.score ?? 0).toFixed(2)] : []),
      m.text.length > 80 ? `${m.text.slice(0, 79)}…` : m.text,
    ]),
  ]);
}
