import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
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
 * A path this process did not write is left alone (the start then fails: never unfiltered).
 */
export function restoreSyscallFilterFile(file: string): void {
  for (const [arch, known] of files) {
    if (known !== file || existsSync(file)) continue;
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    write(file, arch);
  }
}

function write(file: string, arch: FilterArch): void {
  writeFileSync(file, syscallFilter(arch), { mode: 0o400 });
}

function removeFilterFiles(): void {
  for (const file of files.values()) rmSync(dirname(file), { recursive: true, force: true });
  files.clear();
}
