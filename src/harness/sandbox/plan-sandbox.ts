import { existsSync } from "node:fs";
import { lstat, open, realpath, stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { findExecutable, isExecutableFile } from "./find-executable.js";
import { SandboxError } from "./sandbox-error.js";
import type { SandboxMount, SandboxPlan } from "./sandbox-plan.js";
import { isSystemPath, isWithin, systemMounts } from "./system-mounts.js";

/** A program to confine, and what it may reach, as configured. */
export interface SandboxRequest {
  /** The config path of the program's entry, for errors (`mcp.servers.files`). */
  where: string;
  /** As configured: a name looked up on `path`, or a path (`~/` is the home; relative: to `cwd`, else to `base`). */
  command: string;
  args: readonly string[];
  /** Its working directory, writable (`~/`, or relative to `base`); without one it starts in its private /tmp. */
  cwd?: string;
  network: boolean;
  /** Paths it may read (the config path of the list in `readFrom`, for errors). */
  read: readonly string[];
  readFrom: string;
  /** Paths it may read and write. */
  write: readonly string[];
  writeFrom: string;
  /** The PATH its command (and a script's `#!/usr/bin/env` interpreter) is looked up on: the program's own. */
  path: string | undefined;
  /** The user's home: what `~/` means, and an empty private folder inside (it exists; nothing of yours is in it). */
  home: string | undefined;
  /** What relative paths are relative to: tandem's directory. */
  base: string;
  /**
   * Folders no sandbox may reach, with what they are (tandem's data dir: its store, keys and logs):
   * hidden under an empty folder when inside a path given, and a path given inside one is refused.
   */
  hidden: ReadonlyArray<{ path: string; what: string }>;
}

/** A path of this machine seen inside: at its real path, and (when that differs) as a symlink at the path given. */
interface Grant {
  lexical: string;
  real: string;
  writable: boolean;
  /** The field that gave it, for errors. */
  where: string;
  /** The path as configured. */
  given: string;
}

/** A folder the program needs, and the paths it was found through (the command, its script, ...). */
interface Need {
  path: string;
  through: string[];
}

/** What marks the root of a program's package: its own files and its dependencies are under it. */
const PACKAGE_MARKERS = ["package.json", "pyproject.toml"] as const;

/**
 * Plans the sandbox of a program: the system's program folders and a few /etc files, read-only;
 * the program itself and what it needs to run (its install folder, a script's interpreter, the
 * package folder of its script, read-only); the paths given (`read` read-only, `write` and `cwd`
 * writable); an empty home; nothing else. Each path given is resolved through its symlinks and bound
 * at its real path (and a symlink to it left at the path given), checked when the plan is made: one
 * that does not exist is a SandboxError (kind `setup`) naming its field, never a silent skip. Reads
 * the file system, so run it right before starting the program.
 */
export async function planSandbox(request: SandboxRequest): Promise<SandboxPlan> {
  const home = request.home !== undefined && isAbsolute(request.home) ? resolve(request.home) : undefined;
  const hidden = await Promise.all(
    request.hidden.map(async (h) => ({ path: await realpath(h.path).catch(() => resolve(h.path)), what: h.what })),
  );
  const grants: Grant[] = [];
  const give = async (path: string, where: string, writable: boolean): Promise<Grant> => {
    const lexical = expandPath(path, home, request.base, where);
    const real = await realPath(lexical, path, where);
    if (real === "/") throw new SandboxError("setup", `${where}: '${path}' is the whole file system: list the folders it needs`);
    refuseHidden(real, path, where, hidden);
    const grant = { lexical, real, writable, where, given: path };
    grants.push(grant);
    return grant;
  };

  let cwd = "/tmp";
  if (request.cwd !== undefined) cwd = (await give(request.cwd, `${request.where}.cwd`, true)).lexical;
  for (const [i, path] of request.read.entries()) await give(path, `${request.readFrom}.read[${i}]`, false);
  for (const [i, path] of request.write.entries()) await give(path, `${request.writeFrom}.write[${i}]`, true);

  // A path inside a writable one is the server's to change: it may have made it a symlink to
  // anything (your home) since the last start. Such a path is given only where its target is
  // reachable anyway, through a path given outside any writable one.
  const writable = grants.filter((g) => g.writable);
  const inWritable = (path: string, except?: Grant) =>
    writable.find((w) => w !== except && w.lexical !== path && (isWithin(path, w.lexical) || isWithin(path, w.real)));
  const trusted = grants.filter((g) => inWritable(g.lexical, g) === undefined);
  const covered = (real: string, writableToo: boolean) =>
    isSystemPath(real) || trusted.some((t) => isWithin(real, t.real) && (t.writable || !writableToo));
  for (const g of grants) {
    const w = inWritable(g.lexical, g);
    if (w === undefined || covered(g.real, g.writable)) continue;
    throw new SandboxError(
      "setup",
      `${g.where}: '${g.given}' leads to ${g.real}, through ${w.lexical}, which the server may write (it could have made ` +
        `that symlink): give ${g.real} itself instead`,
    );
  }

  const program = await programNeeds(request, home, request.cwd !== undefined ? cwd : undefined);
  for (const need of program.needs) {
    const real = await realpath(need.path).catch(() => undefined);
    if (real === undefined || (isSystemPath(real) && isSystemPath(need.path))) continue;
    refuseHidden(real, need.path, `${request.where}.command`, hidden);
    const w = need.through.map((path) => inWritable(path)).find((found) => found !== undefined);
    if (w !== undefined && !covered(real, false)) {
      throw new SandboxError(
        "setup",
        `${request.where}.command: the program needs ${real}, found through ${w.lexical}, which the server may write ` +
          `(it could have put a symlink or a script there): list ${real} under sandbox.read if it is meant`,
      );
    }
    if (isTooWide(real, home) && !covered(real, false)) {
      throw new SandboxError(
        "setup",
        `${request.where}.command: the program needs ${need.path}, which leads to ${real}: too wide to give by itself; list what it needs under sandbox.read`,
      );
    }
    grants.push({ lexical: need.path, real, writable: false, where: `${request.where}.command`, given: need.path });
  }

  return {
    command: program.command,
    args: request.args,
    cwd,
    network: request.network,
    mounts: [...(await systemMounts(request.network)), ...mountsOf(grants, home, hidden)],
  };
}

/**
 * The mounts of the grants, in an order bubblewrap applies correctly: the empty home first, then
 * the binds from the shallowest path down (read-only before writable at the same path, so a
 * writable path inside a read-only one is writable and the other way round), then the symlinks at
 * the paths given, then an empty folder over each hidden folder a bind would show.
 */
function mountsOf(grants: Grant[], home: string | undefined, hidden: ReadonlyArray<{ path: string }>): SandboxMount[] {
  const mounts: SandboxMount[] = [];
  if (home !== undefined && home !== "/" && !isSystemPath(home)) mounts.push({ kind: "tmpfs", dest: home });
  const seen = new Set<string>();
  const binds = grants
    .filter((g) => {
      const key = `${g.writable}:${g.real}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => depth(a.real) - depth(b.real) || Number(a.writable) - Number(b.writable));
  for (const g of binds) mounts.push({ kind: g.writable ? "bind" : "ro-bind", source: g.real, dest: g.real });
  const shown = (path: string) => isSystemPath(path) || binds.some((g) => isWithin(path, g.real));
  const linked = new Set<string>();
  for (const g of grants) {
    // Inside a bound folder the path given is already there, as the symlink it is.
    if (g.lexical === g.real || shown(g.lexical) || linked.has(g.lexical)) continue;
    linked.add(g.lexical);
    mounts.push({ kind: "symlink", target: g.real, dest: g.lexical });
  }
  for (const h of hidden) {
    if (binds.some((g) => isWithin(h.path, g.real) && h.path !== g.real)) mounts.push({ kind: "tmpfs", dest: h.path });
  }
  return mounts;
}

/**
 * The program's path, and the folders it needs, read-only: the folder it is installed in (the
 * install prefix when that folder is a `bin`), at its path as named and at its real path; for a
 * script (`#!`), its package and its interpreter's install folder; the package folder of its first
 * argument that names a file (`node server.js`), and a package's `node_modules` when that is a
 * symlink to elsewhere (a workspace, a shared checkout). Never the home folder or `/` as a whole.
 */
async function programNeeds(
  request: SandboxRequest,
  home: string | undefined,
  cwd: string | undefined,
): Promise<{ command: string; needs: Need[] }> {
  const where = `${request.where}.command`;
  let command: string;
  if (request.command.includes("/")) {
    command = resolve(cwd ?? request.base, expandPath(request.command, home, request.base, where));
    if (!(await isExecutableFile(command))) {
      throw new SandboxError("setup", `${where}: '${request.command}' is not an executable file (${command})`);
    }
  } else {
    const found = await findExecutable(request.command, request.path);
    if (found === undefined) throw new SandboxError("setup", `${where}: '${request.command}' is not found on PATH`);
    command = found;
  }
  const realCommand = await realpath(command);
  const needs: Need[] = [
    { path: installFolder(command, home), through: [command] },
    { path: installFolder(realCommand, home), through: [command, realCommand] },
  ];
  const packages: Need[] = [];

  const interpreter = await shebangInterpreter(realCommand, request.path);
  if (interpreter !== undefined) {
    const through = [command, realCommand];
    packages.push({ path: packageRoot(realCommand, home), through });
    needs.push(
      { path: installFolder(interpreter, home), through },
      { path: installFolder(await realpath(interpreter), home), through: [...through, interpreter] },
    );
  }

  const script = await firstFileArgument(request.args, cwd);
  if (script !== undefined) {
    const realScript = await realpath(script);
    packages.push(
      { path: packageRoot(script, home), through: [script] },
      { path: packageRoot(realScript, home), through: [script, realScript] },
    );
  }

  for (const root of packages) {
    needs.push(root);
    const modules = join(root.path, "node_modules");
    const info = await lstat(modules).catch(() => undefined);
    if (info?.isSymbolicLink()) {
      const target = await realpath(modules).catch(() => undefined);
      if (target !== undefined) needs.push({ path: target, through: [...root.through, modules] });
    }
  }
  return { command, needs };
}

/** The first argument that is not an option and names an existing file (absolute, or relative to the configured cwd). */
async function firstFileArgument(args: readonly string[], cwd: string | undefined): Promise<string | undefined> {
  for (const arg of args) {
    if (arg === "" || arg.startsWith("-")) continue;
    const path = isAbsolute(arg) ? arg : cwd !== undefined ? resolve(cwd, arg) : undefined;
    if (path === undefined) continue;
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile()) return path;
  }
  return undefined;
}

/** A script's interpreter (`#!/usr/bin/node`, `#!/usr/bin/env -S node --flag`) as a path, or undefined for a binary. */
async function shebangInterpreter(file: string, path: string | undefined): Promise<string | undefined> {
  const head = Buffer.alloc(256);
  let read = 0;
  try {
    const handle = await open(file, "r");
    try {
      read = (await handle.read(head, 0, head.length, 0)).bytesRead;
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
  const text = head.subarray(0, read).toString("utf8");
  if (!text.startsWith("#!")) return undefined;
  const words = (text.slice(2).split("\n")[0] ?? "").trim().split(/\s+/);
  const first = words[0];
  if (first === undefined || !isAbsolute(first)) return undefined;
  if (basename(first) !== "env") return first;
  const name = words.slice(1).find((word) => !word.startsWith("-") && !word.includes("="));
  return name === undefined ? undefined : findExecutable(name, path);
}

/**
 * The folder a program is installed in: its folder, or the install prefix above a `bin` folder
 * (an nvm node's, a virtualenv's), so what it loads beside it is there; never a folder too broad
 * to give (`/`, `/x`, the home, a folder right in the home such as ~/.local): then its own folder,
 * or the file alone.
 */
function installFolder(file: string, home: string | undefined): string {
  const dir = dirname(file);
  if (basename(dir) === "bin" && !isBroad(dirname(dir), home)) return dirname(dir);
  return isBroad(dir, home) ? file : dir;
}

/**
 * The package folder a file belongs to: the nearest folder above it with a package.json or
 * pyproject.toml (for a package inside node_modules, the project whose node_modules it is in), or
 * the file's own folder; never a folder too broad to give (see installFolder), but for a project
 * right in the home.
 */
function packageRoot(file: string, home: string | undefined): string {
  let root: string | undefined;
  // A project right in the home (~/my-server with its package.json) is a package; ~/Downloads is not.
  for (let dir = dirname(file); !isBroad(dir, home) || isProjectInHome(dir, home); dir = dirname(dir)) {
    if (PACKAGE_MARKERS.some((marker) => existsSync(join(dir, marker)))) {
      root = dir;
      break;
    }
  }
  root ??= isBroad(dirname(file), home) ? file : dirname(file);
  const cut = root.split("/").indexOf("node_modules");
  if (cut > 0) {
    const project = root.split("/").slice(0, cut).join("/") || "/";
    if (!isBroad(project, home)) return project;
  }
  return root;
}

/** `/`, a folder right under it (/home, /opt, /var), the home or a folder above it: never given for a program's needs. */
function isTooWide(dir: string, home: string | undefined): boolean {
  return depth(dir) < 2 || (home !== undefined && isWithin(home, dir));
}

/** A folder right in the home with a package marker (checked on the disk). */
function isProjectInHome(dir: string, home: string | undefined): boolean {
  return home !== undefined && dirname(dir) === home && PACKAGE_MARKERS.some((marker) => existsSync(join(dir, marker)));
}

/** `/`, a folder right under it, the home, a folder above it or right in it. */
function isBroad(dir: string, home: string | undefined): boolean {
  if (depth(dir) < 2) return true;
  if (home === undefined) return false;
  return dir === home || isWithin(home, dir) || dirname(dir) === home;
}

function depth(path: string): number {
  return path.split("/").filter((part) => part !== "").length;
}

/** `~` and `~/...` as the home, anything else relative to `base`. */
function expandPath(path: string, home: string | undefined, base: string, where: string): string {
  if (path === "~" || path.startsWith("~/")) {
    if (home === undefined) throw new SandboxError("setup", `${where}: '${path}' names the home folder, but HOME is not set`);
    return join(home, path.slice(1));
  }
  if (path.startsWith("~")) throw new SandboxError("setup", `${where}: '${path}': only '~/' (your own home) is understood`);
  return resolve(base, path);
}

/** The real path of a path given, or a SandboxError saying why there is none. */
async function realPath(lexical: string, given: string, where: string): Promise<string> {
  try {
    return await realpath(lexical);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const shown = given === lexical ? `'${given}'` : `'${given}' (${lexical})`;
    if (code === "ENOENT" || code === "ENOTDIR") {
      const link = await lstat(lexical).catch(() => undefined);
      const why = link?.isSymbolicLink() ? "is a symlink to a path that does not exist" : "does not exist";
      throw new SandboxError("setup", `${where}: ${shown} ${why}: create it, or remove it from the list`);
    }
    if (code === "ELOOP") throw new SandboxError("setup", `${where}: ${shown} is a symlink loop`);
    if (code === "EACCES") throw new SandboxError("setup", `${where}: ${shown} cannot be read by tandem (permission denied)`);
    throw new SandboxError("setup", `${where}: ${shown} cannot be resolved (${code ?? String(err)})`);
  }
}

function refuseHidden(real: string, given: string, where: string, hidden: ReadonlyArray<{ path: string; what: string }>): void {
  for (const h of hidden) {
    if (isWithin(real, h.path)) {
      throw new SandboxError(
        "setup",
        `${where}: '${given}' is inside ${h.what} (${h.path}), which no sandboxed server may reach`,
      );
    }
  }
}
