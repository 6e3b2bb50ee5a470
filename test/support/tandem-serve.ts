import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { TANDEM_CLI } from "./tandem-cli.js";

/** A `tandem serve` of its own (the real CLI in a child process), for tests that kill it. */
export interface ServeProcess {
  url: string;
  child: ChildProcess;
  /** What it has written to stderr so far. */
  stderr(): string;
}

/**
 * Starts `tandem serve --config <config> --port 0` with `home` as its HOME, no Ollama to find, and
 * `key` (hex) as its store key; resolves once it says where it listens (fails after 30 s, or when it
 * exits first, with its stderr).
 */
export async function spawnServe(
  home: string,
  config: string,
  key: string,
  options: { logLevel?: string; env?: Record<string, string> } = {},
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [TANDEM_CLI, "serve", "--config", config, "--port", "0"], {
    env: {
      PATH: process.env.PATH,
      HOME: home,
      XDG_CONFIG_HOME: join(home, "config"),
      OLLAMA_HOST: "127.0.0.1:9",
      TANDEM_LOG_LEVEL: options.logLevel ?? "warn",
      TANDEM_DB_KEY: key,
      ...options.env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const until = Date.now() + 30_000;
  const listening = () => /listening on (http:\/\/[\d.:]+)/.exec(stderr)?.[1];
  while (!listening()) {
    if (Date.now() > until || child.exitCode !== null) {
      child.kill("SIGKILL");
      throw new Error(`tandem serve did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { url: listening() as string, child, stderr: () => stderr };
}
