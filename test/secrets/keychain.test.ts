import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { platform } from "node:os";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { tempDataDir } from "../store/store-support.js";

/** shared/tools/with-keyring: a throwaway unlocked GNOME keyring on a private D-Bus session. */
const WRAPPER = fileURLToPath(new URL("../../../shared/tools/with-keyring", import.meta.url));
const CHECK = fileURLToPath(new URL("./keychain-check.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");

function missing(): string | undefined {
  if (platform() !== "linux") return "the throwaway keychain wrapper is for Linux (Secret Service)";
  if (!existsSync(WRAPPER)) return `${WRAPPER} not found (shared/ is expected beside the repo)`;
  for (const tool of ["dbus-run-session", "gnome-keyring-daemon"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "pipe" });
    } catch {
      return `${tool} is not installed (apt-get install -y gnome-keyring dbus-daemon; .ci/run does this)`;
    }
  }
  return undefined;
}

describe("OS keychain (Secret Service, under shared/tools/with-keyring)", () => {
  it("resolves keychain: references, keeps the database key, and backs `tandem keys`", async (t) => {
    const reason = missing();
    if (reason) {
      t.skip(`skipped: ${reason}`);
      return;
    }
    const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve) => {
      const child = execFile(
        WRAPPER,
        [process.execPath, "--import", TSX, CHECK, tempDataDir("tandem-keychain-")],
        { env: { PATH: process.env.PATH, HOME: tempDataDir("tandem-home-") }, timeout: 30_000 },
        (_err, stdout, stderr) => resolve({ stdout, stderr, code: child.exitCode }),
      );
    });
    assert.equal(code, 0, `keychain checks failed:\n${stdout}\n${stderr}`);
    assert.deepEqual(stdout.trim().split("\n"), [
      "ok a fresh keychain has no tandem entries",
      "ok keychain:NAME resolves through the OS keychain",
      "ok a key rotated in the keychain is used at once",
      "ok the database key is made in the keychain on first use, and found there after",
      "ok tandem keys set/list/rm use the keychain by default, and never print a key",
      "ok a removed keychain entry resolves to nothing",
      "all keychain checks passed",
    ]);
  });
});
