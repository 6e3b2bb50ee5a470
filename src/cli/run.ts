import { GatewayError } from "../core/index.js";
import { MODEL_ALIASES } from "../models/model-aliases.js";
import { parseModelReference } from "../models/model-reference.js";
import { chat } from "./chat.js";
import { formatBytes } from "./models.js";
import { failureText, OllamaApi, OllamaApiError } from "./ollama-client.js";

interface RunOptions {
  url?: string;
  key?: string;
  system?: string;
}

/**
 * `tandem run MODEL [PROMPT]`, as `ollama run`: pulls a local model that is not installed yet, then
 * answers PROMPT (and whatever is piped in) once, or chats interactively at a terminal.
 */
export async function run(model: string, prompt: string | undefined, options: RunOptions): Promise<number> {
  const api = new OllamaApi(options, "run");
  let name: string;
  try {
    name = await ensureModel(api, model);
  } catch (err) {
    process.stderr.write(`tandem run: ${failureText(err)}\n`);
    return 1;
  }
  const piped = process.stdin.isTTY !== true;
  if (prompt === undefined && !piped) return chat(name, options);
  const input = piped ? await readAll(process.stdin) : "";
  const text = [input.trim(), prompt ?? ""].filter((t) => t.length > 0).join("\n\n");
  if (!text) {
    process.stderr.write("tandem run: no prompt given (pass one as an argument or on stdin)\n");
    return 2;
  }
  const messages = [...(options.system ? [{ role: "system", content: options.system }] : []), { role: "user", content: text }];
  try {
    for await (const chunk of api.stream<{ message?: { content?: string } }>("/api/chat", {
      model: name,
      messages,
      stream: true,
    })) {
      const piece = chunk.message?.content;
      if (piece) process.stdout.write(piece);
    }
    process.stdout.write("\n");
    return 0;
  } catch (err) {
    process.stderr.write(`\ntandem run: ${failureText(err)}\n`);
    return 1;
  }
}

/**
 * The name to chat with: the model as named if the server knows it (a target or route), else
 * `local/<name>`, else it is pulled into the local engine (local models only; a name whose prefix
 * is another provider is not). A name that is none of these and no name a pull takes either (not an
 * alias, not a Hugging Face repo: a typo of a route or target) is not found, as `tandem show` says
 * it, listing what the server has, rather than a pull's advice about local engines.
 */
async function ensureModel(api: OllamaApi, model: string): Promise<string> {
  const missing = await lookUp(api, model);
  if (missing === undefined) return model;
  const bare = model.startsWith("local/") ? model.slice("local/".length) : model;
  if (bare !== model || (await lookUp(api, `local/${bare}`)) !== undefined) {
    const tags = await names(api);
    const prefix = model.split("/")[0] ?? "";
    if (model.includes("/") && prefix !== "local" && prefix !== "hf.co" && tags.some((n) => n.startsWith(`${prefix}/`))) {
      throw new OllamaApiError(404, `'${model}' is not a model the server knows, and only local models are pulled`);
    }
    if (!pullable(bare)) {
      throw new OllamaApiError(
        missing.status,
        // The server's message ends its sentence already (`Available: ... local/think.`).
        `${missing.message.replace(/\.$/, "")}. To pull a local model, name an alias (${MODEL_ALIASES.map((a) => a.alias).join(", ")}) ` +
          "or a Hugging Face repo (owner/name, owner/name:Q4_K_M)",
      );
    }
    await pull(api, bare);
    if ((await lookUp(api, `local/${bare}`)) === undefined) return `local/${bare}`;
    const added = (await names(api)).filter((n) => n.startsWith("local/") && !tags.includes(n));
    if (added.length === 1 && added[0]) return added[0];
    throw new OllamaApiError(0, `pulled ${bare}, but cannot tell its local name: see \`tandem models list\``);
  }
  return `local/${bare}`;
}

/** Undefined when the server knows the model; else its 404, which says so and lists what it has (as `tandem show` prints it). */
async function lookUp(api: OllamaApi, model: string): Promise<OllamaApiError | undefined> {
  try {
    await api.post("/api/show", { model });
    return undefined;
  } catch (err) {
    if (err instanceof OllamaApiError && err.status === 404) return err;
    throw err;
  }
}

/**
 * Whether a pull could take the name: an alias or a hub repo. Only a name that is neither (an
 * unknown alias) is refused here; any other objection (a file on this machine) the server's pull
 * makes, in its own words.
 */
function pullable(name: string): boolean {
  try {
    parseModelReference(name);
    return true;
  } catch (err) {
    return !(err instanceof GatewayError && err.code === "not_found");
  }
}

async function names(api: OllamaApi): Promise<string[]> {
  return (await api.get<{ models: { name: string }[] }>("/api/tags")).models.map((m) => m.name);
}

/** Pulls through the server, with one progress line (redrawn on a terminal, every 10% otherwise). */
async function pull(api: OllamaApi, reference: string): Promise<void> {
  const tty = process.stderr.isTTY === true;
  let last = "";
  let shownTenth = -1;
  for await (const line of api.stream<{ status: string; total?: number; completed?: number }>("/api/pull", {
    model: reference,
    stream: true,
  })) {
    if (line.total && line.completed !== undefined) {
      const tenth = Math.floor((line.completed / line.total) * 10);
      const text = `${line.status} ${Math.floor((line.completed / line.total) * 100)}% (${formatBytes(line.completed)}/${formatBytes(line.total)})`;
      if (tty) process.stderr.write(`\r${text}\x1b[K`);
      else if (tenth !== shownTenth) process.stderr.write(`${text}\n`);
      shownTenth = tenth;
      last = line.status;
      continue;
    }
    if (line.status === last) continue;
    if (tty && shownTenth >= 0) process.stderr.write("\n");
    shownTenth = -1;
    last = line.status;
    process.stderr.write(`${line.status}\n`);
  }
}

async function readAll(stream: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}
