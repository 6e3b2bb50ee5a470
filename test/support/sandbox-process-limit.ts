/**
 * What a confined server's status says of its process limit on this machine, with the default
 * `maxProcesses`: the limit, or, when the tests run as root (CI), why none is set. Assumes bubblewrap
 * gives sandboxes a user namespace of their own here and util-linux's prlimit is in /usr/bin, as on
 * the machines the sandbox tests run on.
 */
export const DEFAULT_PROCESS_LIMIT_STATUS: { maxProcesses: number } | { noProcessLimit: string } =
  process.getuid?.() === 0
    ? { noProcessLimit: "tandem runs as root, whose processes the kernel does not limit" }
    : { maxProcesses: 512 };
