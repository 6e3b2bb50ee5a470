import { homedir } from "node:os";
import { dirname } from "node:path";
import type { McpSandboxConfig } from "../../../config/index.js";
import {
  bubblewrapArgs,
  bubblewrapCommand,
  checkBubblewrap,
  findExecutable,
  type ProcessLimitSupport,
  planSandbox,
  processLimitSupport,
  restoreSyscallFilterFile,
  type SandboxAvailability,
  SandboxError,
  type SandboxPlan,
  withProcessLimit,
} from "../../sandbox/index.js";
import type { McpEndpoint } from "./mcp-connection.js";
import type { McpLog } from "./mcp-log.js";

/** How a configured stdio server is confined, as /v1/status shows it. */
export type McpSandboxStatus =
  /** It runs with tandem's user's rights (`sandbox` not set, or false). */
  | { state: "off" }
  /** This machine's bubblewrap is being tried (at start, for a moment). */
  | { state: "checking" }
  /**
   * It is started in a sandbox; `network`: whether it shares the machine's network; `memoryMiB`: its
   * memory limit, if any; `maxProcesses`: its process limit, or `noProcessLimit`: why this machine
   * sets none; `syscallFilter`: whether the syscall filter applies (not on every machine:
   * `noSyscallFilter` says why not).
   */
  | {
      state: "confined";
      network: boolean;
      memoryMiB?: number;
      maxProcesses?: number;
      noProcessLimit?: string;
      syscallFilter: boolean;
      noSyscallFilter?: string;
    }
  /** It is not started, and why (bubblewrap missing, a path that does not exist, ...): never unconfined instead. */
  | { state: "failed"; reason: string };

export interface McpSandboxOptions {
  /** tandem's environment: the PATH bwrap is found on, HOME, and the values of the names a sandbox passes through. */
  env: NodeJS.ProcessEnv;
  /** tandem's data dir (store, keys, logs): out of every sandbox's reach. */
  dataDir?: string;
  /** What relative paths are relative to. Default process.cwd(). */
  cwd?: string;
  /** Default process.platform (tests say another). */
  platform?: NodeJS.Platform;
  /** Milliseconds a finding that no sandbox can be made is kept before the next use checks again. Default 5000. */
  recheckMs?: number;
  /** Default process.getuid() (tests say another): under root no process limit can be set. */
  uid?: number;
  log: McpLog;
}

/** The process limit of a sandbox whose settings give none (`maxProcesses`), where this machine can set one. */
export const DEFAULT_MAX_PROCESSES = 512;

/** A stdio server that is to be confined. */
export type SandboxedServer = {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  sandbox: McpSandboxConfig;
};

/**
 * The sandbox of the host's stdio servers: whether this machine can confine them (checked once at
 * start, and again at the next start of a server while it could not, at most every `recheckMs`), and the command that starts
 * a server inside bubblewrap. A server that cannot be confined is not started (SandboxError).
 */
export class McpSandbox {
  readonly #options: McpSandboxOptions;
  #availability: Promise<SandboxAvailability> | undefined;
  #settled: SandboxAvailability | undefined;
  /** Whether this machine's sandboxes can have a process limit: found with the availability. */
  #processLimit: ProcessLimitSupport | undefined;
  #settledAt = 0;
  readonly #recheckMs: number;
  /** Why a server's own sandbox cannot be built (a missing path, ...), until it can. */
  readonly #problems = new Map<string, string>();

  constructor(options: McpSandboxOptions) {
    this.#options = options;
    this.#recheckMs = options.recheckMs ?? 5000;
  }

  /**
   * Tries this machine's bubblewrap and plans each server's sandbox, so that /v1/status says at once
   * what would fail on first use. In the background; failures are kept for status, never thrown.
   */
  check(servers: ReadonlyArray<[label: string, server: SandboxedServer]>): void {
    void this.#available().then(async (availability) => {
      if (!availability.ok) {
        this.#options.log.warn({ reason: availability.reason }, "mcp: sandboxed stdio servers cannot be started");
        return;
      }
      if (availability.noSyscallFilter !== undefined && servers.length > 0) {
        this.#options.log.warn(
          { reason: availability.noSyscallFilter },
          "mcp: sandboxed stdio servers run without the syscall filter",
        );
      }
      for (const [label, server] of servers) {
        // Its own env as written (references unread): only its PATH matters to the plan.
        await this.#build(label, server, server.env, availability).catch(() => {});
      }
    });
  }

  /** A server's sandbox as status shows it. */
  status(label: string, sandbox: McpSandboxConfig | undefined): McpSandboxStatus {
    if (sandbox === undefined) return { state: "off" };
    const { network, memoryMiB } = sandbox;
    if (this.#settled === undefined) return { state: "checking" };
    if (!this.#settled.ok) return { state: "failed", reason: this.#settled.reason };
    const problem = this.#problems.get(label);
    if (problem !== undefined) return { state: "failed", reason: problem };
    const { noSyscallFilter } = this.#settled;
    const processLimit = this.#processLimit;
    return {
      state: "confined",
      network,
      ...(memoryMiB !== undefined && { memoryMiB }),
      ...(processLimit?.ok === true && { maxProcesses: sandbox.maxProcesses ?? DEFAULT_MAX_PROCESSES }),
      ...(processLimit?.ok === false && { noProcessLimit: processLimit.reason }),
      syscallFilter: noSyscallFilter === undefined,
      ...(noSyscallFilter !== undefined && { noSyscallFilter }),
    };
  }

  /**
   * The endpoint that starts the server confined: bwrap, its arguments, and the server's
   * environment (the host's safe default, its own `env`, the names its sandbox passes through, and
   * HOME, which inside is an empty folder of its own). Throws SandboxError when it cannot be confined.
   */
  async endpoint(
    label: string,
    server: SandboxedServer,
    env: Record<string, string>,
  ): Promise<{ endpoint: McpEndpoint & { transport: "stdio" }; secrets: string[] }> {
    const availability = await this.#available();
    if (!availability.ok) throw new SandboxError("unavailable", availability.reason);
    const built = await this.#build(label, server, env, availability);
    this.#options.log.debug(
      { server: label, bwrap: built.endpoint.command, args: built.endpoint.args },
      "mcp: starting a sandboxed stdio server",
    );
    return built;
  }

  /** Plans the server's sandbox now (a problem is kept for status until a plan succeeds). */
  async #build(
    label: string,
    server: SandboxedServer,
    env: Record<string, string>,
    availability: SandboxAvailability & { ok: true },
  ): Promise<{ endpoint: McpEndpoint & { transport: "stdio" }; secrets: string[] }> {
    const hostEnv = this.#options.env;
    const passed: Record<string, string> = {};
    for (const name of server.sandbox.env) {
      const value = hostEnv[name];
      if (value !== undefined) passed[name] = value;
    }
    const home = hostEnv.HOME ?? homedir();
    const childEnv: Record<string, string> = { HOME: home, ...passed, ...env };
    const { features } = availability;
    const hidden = [
      ...(this.#options.dataDir !== undefined ? [{ path: this.#options.dataDir, what: "tandem's data dir" }] : []),
      // The filter every later sandbox starts under (in the temp dir, this user's): a server given the
      // temp dir must not replace it with a weaker one.
      ...(features.syscallFilter !== undefined
        ? [{ path: dirname(features.syscallFilter), what: "the sandbox's syscall filter" }]
        : []),
    ];
    try {
      const plan = await planSandbox({
        where: `mcp.servers.${label}`,
        command: server.command,
        args: server.args,
        ...(server.cwd !== undefined && { cwd: server.cwd }),
        network: server.sandbox.network,
        read: server.sandbox.read,
        readFrom: server.sandbox.from.read,
        write: server.sandbox.write,
        writeFrom: server.sandbox.from.write,
        // The PATH the server will have: its own env's, else the host's default (tandem's PATH).
        path: childEnv.PATH ?? process.env.PATH,
        home,
        base: this.#options.cwd ?? process.cwd(),
        hidden,
      });
      const limitedPlan = this.#processLimited(label, server.sandbox.maxProcesses, plan);
      if (features.syscallFilter !== undefined) restoreSyscallFilterFile(features.syscallFilter);
      const bwrap = bubblewrapCommand(availability.bwrap, bubblewrapArgs(limitedPlan, features), features);
      const limited = await this.#memoryLimited(label, server.sandbox.memoryMiB, bwrap);
      this.#problems.delete(label);
      return {
        endpoint: { transport: "stdio", ...limited, env: childEnv },
        // Values passed through may be secrets (a token): cleaned out of logs and errors as `env` values are.
        secrets: Object.values(passed),
      };
    } catch (err) {
      if (err instanceof SandboxError) this.#problems.set(label, err.message);
      throw err;
    }
  }

  /**
   * The plan with the server's process limit (its `maxProcesses`, else the default) where this machine
   * can set one; a default it cannot set is left out (status says why), a configured one never is:
   * the server is not started (SandboxError).
   */
  #processLimited(label: string, configured: number | undefined, plan: SandboxPlan): SandboxPlan {
    const support = this.#processLimit;
    if (support?.ok === true) return withProcessLimit(plan, configured ?? DEFAULT_MAX_PROCESSES, support.prlimit);
    if (configured === undefined) return plan;
    throw new SandboxError(
      "setup",
      `mcp.servers.${label}: sandbox.maxProcesses cannot be applied here: ${support?.reason ?? "not checked yet"}; remove it to run the server without a process limit`,
    );
  }

  /**
   * bwrap's command, started under util-linux's `prlimit` with the server's memory limit when it has
   * one (the limit is inherited by everything inside). Throws SandboxError when `prlimit` is missing:
   * a limit that was asked for is never dropped.
   */
  async #memoryLimited(
    label: string,
    memoryMiB: number | undefined,
    bwrap: { command: string; args: string[] },
  ): Promise<{ command: string; args: string[] }> {
    if (memoryMiB === undefined) return bwrap;
    const prlimit = await findExecutable("prlimit", this.#options.env.PATH ?? process.env.PATH);
    if (prlimit === undefined) {
      throw new SandboxError(
        "setup",
        `mcp.servers.${label}: sandbox.memoryMiB needs prlimit (util-linux), which is not found on PATH`,
      );
    }
    return { command: prlimit, args: [`--data=${memoryMiB * 1024 * 1024}`, "--", bwrap.command, ...bwrap.args] };
  }

  /** This machine's availability: checked once, and again on the next use while it is not available. */
  #available(): Promise<SandboxAvailability> {
    // Pending, found available, or found unavailable a moment ago: shared (a burst of requests for a
    // server that cannot start runs no bwrap each). Otherwise checked (again).
    if (
      this.#availability !== undefined &&
      (this.#settled === undefined || this.#settled.ok || Date.now() - this.#settledAt < this.#recheckMs)
    ) {
      return this.#availability;
    }
    this.#settled = undefined;
    const path = this.#options.env.PATH ?? process.env.PATH;
    const check = checkBubblewrap({
      path,
      ...(this.#options.platform !== undefined && { platform: this.#options.platform }),
    }).then(async (availability) => {
      // Found before the availability settles, so a sandbox built with it always knows its limit.
      if (availability.ok) {
        this.#processLimit = await processLimitSupport(availability.features, {
          path,
          ...(this.#options.uid !== undefined && { uid: this.#options.uid }),
        });
      }
      return availability;
    });
    this.#availability = check;
    void check.then((availability) => {
      if (this.#availability !== check) return;
      this.#settled = availability;
      this.#settledAt = Date.now();
    });
    return check;
  }
}
