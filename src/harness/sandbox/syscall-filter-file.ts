import { lstatSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { SandboxError } from "./sandbox-error.js";
import { type FilterArch, syscallFilter } from "./syscall-filter.js";

const files = new Map<FilterArch, string>();

/**
 * The file bubblewrap reads this architecture's syscall filter from (through file descriptor 3, see
 * bubblewrapCommand): written once per process into a folder of its own that only this user can
 * enter (an unpredictable name, so no other user can put a weaker filter in its place), removed when
 * the process exits.
 */
export function syscallFilterFile(arch: FilterArch): string {
  const known = files.get(arch);
  if (known !== undefined) return known;
  const file = join(mkdtempSync(join(tmpdir(), "tandem-sandbox-")), `syscall-filter-${arch}.bpf`);
  write(file, arch);
  if (files.size === 0) process.once("exit", () => removeFilterFiles());
  files.set(arch, file);
  return file;
}

/**
 * Writes a filter file of this process again if it is gone (a temp cleaner, such as
 * systemd-tmpfiles after ten days, removed it while tandem ran): called before each sandbox starts.
 * A path this process did not write is left alone (the start then fails: never unfiltered). The
 * folder's name is visible in the temp dir, so another local user may have made it again first: a
 * folder that is a link, not this user's or open to others is refused (SandboxError: the sandbox is
 * not started), and the file is only ever created, never written through a link in its place.
 */
export function restoreSyscallFilterFile(file: string): void {
  for (const [arch, known] of files) {
    if (known !== file) continue;
    privateFolder(dirname(file));
    const found = lstatSync(file, { throwIfNoEntry: false });
    if (found === undefined) write(file, arch);
    else if (!found.isFile() || !ownedHere(found.uid)) throw notOurs(file);
  }
}

/** Makes the folder, or checks the one found: a folder (not a link) of this user that no one else may enter. */
function privateFolder(folder: string): void {
  try {
    // Not recursive: made here, or found (made by someone) and checked.
    mkdirSync(folder, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    const info = lstatSync(folder);
    if (!info.isDirectory() || !ownedHere(info.uid) || (info.mode & 0o077) !== 0) {
      throw new SandboxError(
        "setup",
        `the syscall filter's folder ${folder} is not tandem's own (a link, another user's, or open to others: made again by someone after a temp cleaner removed it?); tandem does not write its filter there`,
      );
    }
  }
}

function ownedHere(uid: number): boolean {
  const own = process.getuid?.();
  return own === undefined || uid === own;
}

function notOurs(file: string): SandboxError {
  return new SandboxError(
    "setup",
    `the syscall filter's file ${file} is not tandem's (a link?); tandem does not read or write through it`,
  );
}

function write(file: string, arch: FilterArch): void {
  try {
    // Created, never opened as found: a link left in its place is not followed.
    writeFileSync(file, syscallFilter(arch), { mode: 0o400, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    throw notOurs(file);
  }
}

function removeFilterFiles(): void {
  for (const file of files.values()) rmSync(dirname(file), { recursive: true, force: true });
  files.clear();
}
