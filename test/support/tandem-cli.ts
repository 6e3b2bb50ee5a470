import { fileURLToPath } from "node:url";

/**
 * The built `tandem` command, spawned as `node <TANDEM_CLI> <command>`, as the README runs it from a
 * checkout (`npm test` builds dist/ first). Not through tsx on src/: transpiling every module at
 * each start made each spawn about a second slower.
 */
export const TANDEM_CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
