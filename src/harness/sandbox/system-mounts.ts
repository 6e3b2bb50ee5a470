import { lstat, readlink, realpath } from "node:fs/promises";
import type { SandboxMount } from "./sandbox-plan.js";

/** The system's program folders, read-only in every sandbox (a merged-/usr system's /bin etc. as their symlinks). */
export const SYSTEM_FOLDERS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"] as const;

/**
 * The pieces of /etc a program needs to start and to run as a user: the dynamic linker's cache,
 * alternatives (Debian's /usr/bin/python3 and the like point there), the user and group names, the
 * time zone, and the certificates TLS clients trust. Not shadow, sudoers, ssh or anything secret.
 */
const ETC_ALWAYS = [
  "/etc/ld.so.cache",
  "/etc/ld.so.conf",
  "/etc/ld.so.conf.d",
  "/etc/alternatives",
  "/etc/passwd",
  "/etc/group",
  "/etc/nsswitch.conf",
  "/etc/localtime",
  "/etc/hosts",
  // Certificates, not /etc/ssl/private (the machine's own TLS keys).
  "/etc/ssl/certs",
  "/etc/ssl/openssl.cnf",
  "/etc/ca-certificates",
  "/etc/pki/tls/certs",
  "/etc/pki/tls/openssl.cnf",
  "/etc/pki/ca-trust",
  "/etc/crypto-policies",
  "/etc/mime.types",
] as const;

/** Name resolution, only with the network on. */
const ETC_NETWORK = ["/etc/resolv.conf", "/etc/gai.conf", "/etc/host.conf", "/etc/services", "/etc/protocols"] as const;

/**
 * The system mounts of a sandbox: SYSTEM_FOLDERS (a folder read-only, a symlink as the same
 * symlink) and the /etc pieces that exist, read-only (a symlinked one, such as a systemd-resolved
 * /etc/resolv.conf, bound from its target). What does not exist on this system is left out.
 */
export async function systemMounts(network: boolean): Promise<SandboxMount[]> {
  const mounts: SandboxMount[] = [];
  for (const folder of SYSTEM_FOLDERS) {
    const info = await lstat(folder).catch(() => undefined);
    if (info === undefined) continue;
    if (info.isSymbolicLink()) mounts.push({ kind: "symlink", target: await readlink(folder), dest: folder });
    else if (info.isDirectory()) mounts.push({ kind: "ro-bind", source: folder, dest: folder });
  }
  for (const piece of network ? [...ETC_ALWAYS, ...ETC_NETWORK] : ETC_ALWAYS) {
    const source = await realpath(piece).catch(() => undefined);
    if (source !== undefined) mounts.push({ kind: "ro-bind", source, dest: piece });
  }
  return mounts;
}

/** Whether `path` is inside the system's program folders (already readable in every sandbox). */
export function isSystemPath(path: string): boolean {
  return SYSTEM_FOLDERS.some((folder) => isWithin(path, folder));
}

/** Whether `path` is `folder` or inside it (both absolute and normalised). */
export function isWithin(path: string, folder: string): boolean {
  if (folder === "/") return true;
  return path === folder || path.startsWith(`${folder}/`);
}
