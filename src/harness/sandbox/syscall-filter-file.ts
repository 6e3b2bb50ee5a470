import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  const dir = mkdtempSync(join(tmpdir(), "tandem-sandbox-"));
  const file = join(dir, `syscall-filter-${arch}.bpf`);
  writeFileSync(file, syscallFilter(arch), { mode: 0o400 });
  if (files.size === 0) process.once("exit", () => removeFilterFiles());
  files.set(arch, file);
  return file;
}

function removeFilterFiles(): void {
  for (const file of files.values()) rmSync(join(file, ".."), { recursive: true, force: true });
  files.clear();
}
