import { spawn } from "node:child_process";
import { access, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";

/**
 * The one place that installs node-llama-cpp's prebuilt binary packages: `tandem gpu install` (a GPU
 * build, or the CPU one) and the engine itself, when it starts and finds no binary at all (tandem
 * installed with `npm install -g --omit=optional`, which leaves out node-llama-cpp's builds).
 */

/** The npm command line that installs packages into an engine dir (for a plan and a run). */
export function npmInstallArgs(dir: string, packages: string[]): string[] {
  return ["install", "--prefix", dir, "--no-audit", "--no-fund", "--omit=dev", "--loglevel=http", ...packages];
}

export interface InstallResult {
  ok: boolean;
  /** npm's exit code, or why it could not run or was stopped. */
  detail: string;
}

export interface InstallOptions {
  /** npm's environment (its registry settings apply: npm_config_registry, .npmrc). Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** npm is stopped after this long (a registry that never answers must not hold the engine forever). Default 600000. */
  timeoutMs?: number;
  /** Stops npm (tandem shutting down). */
  signal?: AbortSignal;
}

/**
 * Installs binary packages (name@version) into `dir` with npm, streaming npm's progress lines. The
 * folder gets a package.json of its own so npm treats it as its own project and never walks up to
 * another.
 */
export async function installBinaryPackages(
  dir: string,
  packages: string[],
  onLine: (line: string) => void,
  options: InstallOptions = {},
): Promise<InstallResult> {
  await mkdir(dir, { recursive: true });
  const manifest = join(dir, "package.json");
  if (
    !(await access(manifest).then(
      () => true,
      () => false,
    ))
  ) {
    await writeFile(manifest, `${JSON.stringify({ name: "tandem-engine-binaries", private: true }, null, 2)}\n`);
  }
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const timeoutMs = options.timeoutMs ?? 600_000;
  if (options.signal?.aborted) return { ok: false, detail: "stopped" };
  return await new Promise<InstallResult>((resolve) => {
    const child = spawn(npm, npmInstallArgs(dir, packages), {
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      shell: process.platform === "win32",
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    timer.unref();
    const stop = () => child.kill("SIGKILL");
    options.signal?.addEventListener("abort", stop, { once: true });
    child.on("close", () => options.signal?.removeEventListener("abort", stop));
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on("line", (line) => line.trim() && onLine(line));
    }
    child.on("error", (err) => {
      clearTimeout(timer);
      resolve({ ok: false, detail: `npm could not run (${err.message})` });
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(
        code === 0
          ? { ok: true, detail: "exit code 0" }
          : {
              ok: false,
              detail: timedOut
                ? `no answer within ${timeoutMs / 1000} s`
                : options.signal?.aborted
                  ? "stopped"
                  : signal
                    ? `signal ${signal}`
                    : `exit code ${code}`,
            },
      );
    });
  });
}
