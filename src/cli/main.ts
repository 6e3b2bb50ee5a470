#!/usr/bin/env node
import { Command, InvalidArgumentError } from "commander";
import { ConfigError, parsePort } from "../config/index.js";
import { VERSION } from "../version.js";
import { auditCommand } from "./audit.js";
import { chat } from "./chat.js";
import { gpuCommand } from "./gpu.js";
import { keysCommand } from "./keys.js";
import { modelsCommand } from "./models.js";
import { serve } from "./serve.js";
import { status } from "./status.js";

function portOption(value: string): number {
  try {
    return parsePort(value, "--port");
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

const program = new Command()
  .name("tandem")
  .description("Local-first hybrid AI gateway: OpenAI, Anthropic and Ollama APIs over local and cloud models")
  .version(VERSION);

program
  .command("serve")
  .description("start the server (default 127.0.0.1:1337)")
  .option("-c, --config <path>", "config file (YAML or JSON); else TANDEM_CONFIG, ./tandem.config.yaml, the user config dir")
  .option("--host <host>", "bind address (TANDEM_HOST)")
  .option("-p, --port <port>", "port (TANDEM_PORT)", portOption)
  .action(async (opts: { config?: string; host?: string; port?: number }) => {
    try {
      await serve(opts);
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`tandem: config error: ${err.message}\n`);
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
  .option("--key <key>", "client API key (TANDEM_API_KEY)")
  .option("-s, --system <prompt>", "system prompt")
  .action(async (model: string | undefined, opts: { url?: string; key?: string; system?: string }) => {
    process.exitCode = await chat(model, opts);
  });

program
  .command("status")
  .description("show what the running server's providers, targets and routes are doing")
  .option("--url <url>", "server URL (TANDEM_URL; default http://127.0.0.1:1337)")
  .option("--key <key>", "client API key (TANDEM_API_KEY)")
  .option("--json", "print the raw JSON of /v1/status")
  .action(async (opts: { url?: string; key?: string; json?: boolean }) => {
    process.exitCode = await status(opts);
  });

program.addCommand(modelsCommand());

program.addCommand(keysCommand());

program.addCommand(gpuCommand());

program.addCommand(auditCommand());

await program.parseAsync(process.argv);
