#!/usr/bin/env node
import { Command } from "commander";
import { VERSION } from "../version.js";
import { auditCommand } from "./audit.js";
import { gpuCommand } from "./gpu.js";
import { keysCommand } from "./keys.js";
import { memoryCommand } from "./memory.js";
import { modelsCommand } from "./models.js";
import { tierUpSooner } from "./v8-tiering.js";

// Each command's code is loaded when it runs: the server's (config schemas, every provider, the
// store) takes most of a second to load, which `tandem stop` or `tandem --help` need not wait for.

const program = new Command()
  .name("tandem")
  .description("Local-first hybrid AI gateway: OpenAI, Anthropic and Ollama APIs over local and cloud models")
  .version(VERSION);

program
  .command("serve")
  .description("start the server (default 127.0.0.1:1337)")
  .option("-c, --config <path>", "config file (YAML or JSON); else TANDEM_CONFIG, ./tandem.config.yaml, the user config dir")
  .option("--host <host>", "bind address (TANDEM_HOST)")
  .option("-p, --port <port>", "port (TANDEM_PORT)")
  .action(async ({ port, ...opts }: { config?: string; host?: string; port?: string }) => {
    tierUpSooner();
    const [{ serve }, { ConfigError, parsePort }, { DataDirInUseError, StoreError }] = await Promise.all([
      import("./serve.js"),
      import("../config/index.js"),
      import("../store/index.js"),
    ]);
    try {
      // Read here, not by commander, whose refusal exits 1: a bad --port is a config error (exit 2),
      // as a bad TANDEM_PORT or --host is.
      await serve({ ...opts, ...(port !== undefined && { port: parsePort(port, "--port") }) });
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`tandem: config error: ${err.message}\n`);
        process.exit(2);
      }
      if (err instanceof DataDirInUseError) {
        process.stderr.write(`tandem: ${err.message}\n`);
        process.exit(2);
      }
      if (err instanceof StoreError) {
        // A wrong key or a damaged file: the file is named and left as it is; nothing started.
        process.stderr.write(`tandem: cannot open the store: ${err.message}\n`);
        process.exit(2);
      }
      process.stderr.write(`tandem: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    }
  });

program
  .command("chat")
  .description("chat with a model through the running server, streaming (like `ollama run`)")
  .argument("[model]", "a target (provider/model) or route; default: auto, else the first model")
  .option("--url <url>", "server URL (TANDEM_URL; default http://127.0.0.1:1337)")
  .option("--key <key>", "client API key; prefer TANDEM_API_KEY (--key shows in ps); asked for on a terminal when needed")
  .option("-s, --system <prompt>", "system prompt")
  .action(async (model: string | undefined, opts: { url?: string; key?: string; system?: string }) => {
    const { chat } = await import("./chat.js");
    process.exitCode = await chat(model, opts);
  });

program
  .command("status")
  .description("show what the running server's providers, targets and routes are doing")
  .option("--url <url>", "server URL (TANDEM_URL; default http://127.0.0.1:1337)")
  .option("--key <key>", "client API key; prefer TANDEM_API_KEY (--key shows in ps); asked for on a terminal when needed")
  .option("--json", "print the raw JSON of /v1/status")
  .action(async (opts: { url?: string; key?: string; json?: boolean }) => {
    const { status } = await import("./status.js");
    process.exitCode = await status(opts);
  });

const URL_HELP = "server URL (TANDEM_URL; default http://127.0.0.1:1337)";
const KEY_HELP = "client API key; prefer TANDEM_API_KEY (--key shows in ps)";

program
  .command("run")
  .description("answer a prompt with a model, or chat at a terminal; pulls a local model first if needed (like `ollama run`)")
  .argument("<model>", "a target (provider/model), a route, or a local model to pull (alias, hf.co/{repo}:{quant})")
  .argument("[prompt]", "answer this once and exit (also when stdin is piped)")
  .option("--url <url>", URL_HELP)
  .option("--key <key>", KEY_HELP)
  .option("-s, --system <prompt>", "system prompt")
  .action(async (model: string, prompt: string | undefined, opts: { url?: string; key?: string; system?: string }) => {
    const { run } = await import("./run.js");
    process.exitCode = await run(model, prompt, opts);
  });

program
  .command("ps")
  .description("list the models the running server holds in memory (like `ollama ps`)")
  .option("--url <url>", URL_HELP)
  .option("--key <key>", KEY_HELP)
  .option("--json", "print the raw JSON of /api/ps")
  .action(async (opts: { url?: string; key?: string; json?: boolean }) => {
    const { ps } = await import("./ps.js");
    process.exitCode = await ps(opts);
  });

program
  .command("stop")
  .description("unload a model from memory now (like `ollama stop`)")
  .argument("<model>", "a loaded model (local/<name>, or <name>)")
  .option("--url <url>", URL_HELP)
  .option("--key <key>", KEY_HELP)
  .action(async (model: string, opts: { url?: string; key?: string }) => {
    const { stop } = await import("./stop.js");
    process.exitCode = await stop(model, opts);
  });

program
  .command("show")
  .description("show a model's details, parameters, system prompt and template (like `ollama show`)")
  .argument("<model>", "a target (provider/model) or route")
  .option("--url <url>", URL_HELP)
  .option("--key <key>", KEY_HELP)
  .option("--json", "print the raw JSON of /api/show")
  .action(async (model: string, opts: { url?: string; key?: string; json?: boolean }) => {
    const { show } = await import("./show.js");
    process.exitCode = await show(model, opts);
  });

program
  .command("mcp")
  .description(
    "an MCP server on stdin/stdout for clients that start one as a command (Claude Desktop, Cursor, Codex): " +
      "relays to the running tandem's /mcp (its models and your memories as tools)",
  )
  .option("--url <url>", URL_HELP)
  .option("--key <key>", KEY_HELP)
  .action(async (opts: { url?: string; key?: string }) => {
    // Loaded for this command alone: the MCP SDK's modules would slow every other command's start.
    const { mcpProxy } = await import("./mcp.js");
    process.exitCode = await mcpProxy(opts);
  });

program.addCommand(modelsCommand());

program.addCommand(keysCommand());

program.addCommand(gpuCommand());

program.addCommand(auditCommand());

program.addCommand(memoryCommand());

await program.parseAsync(process.argv);
