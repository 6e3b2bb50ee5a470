import { GatewayError } from "../core/index.js";

/** A reference to a secret: `env:NAME`, `keychain:NAME` or `store:NAME`. Never the secret itself. */
export type KeyRef = { source: "env" | "keychain" | "store"; name: string };

const PATTERN = /^(env|keychain|store):([A-Za-z0-9_.\-/]+)$/;

export function parseKeyRef(text: string): KeyRef | undefined {
  const match = PATTERN.exec(text);
  if (!match) return undefined;
  return { source: match[1] as KeyRef["source"], name: match[2] as string };
}

export function formatKeyRef(ref: KeyRef): string {
  return `${ref.source}:${ref.name}`;
}

/**
 * Resolves a key reference to the secret. `env:` reads the environment at call time (so a rotated
 * variable in a supervisor's environment is picked up on restart). `keychain:` and `store:` arrive
 * with the secrets work (issue: private by default); until then they resolve to undefined and the
 * provider reports that its key is unavailable.
 */
export async function resolveKeyRef(ref: KeyRef, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  switch (ref.source) {
    case "env": {
      const value = env[ref.name];
      return value === undefined || value === "" ? undefined : value;
    }
    case "keychain":
    case "store":
      return undefined;
  }
}

/** Shows a key in logs and status without giving it away: `sk-p…Wx9z`. */
export function maskKey(key: string): string {
  if (key.length <= 8) return "…";
  return `${key.slice(0, 4)}…${key.slice(-4)}`;
}

/** A provider's keys, tried in order: the first that resolves is used. */
export class KeyPool {
  readonly refs: readonly KeyRef[];
  readonly #env: NodeJS.ProcessEnv;

  constructor(refs: readonly KeyRef[], env: NodeJS.ProcessEnv = process.env) {
    this.refs = refs;
    this.#env = env;
  }

  /** The key to use now, or undefined when the provider needs none or none resolves. */
  async current(): Promise<string | undefined> {
    for (const ref of this.refs) {
      const key = await resolveKeyRef(ref, this.#env);
      if (key !== undefined) return key;
    }
    return undefined;
  }

  /** Throws when keys are configured but none of them resolves. */
  async require(provider: string): Promise<string | undefined> {
    const key = await this.current();
    if (key === undefined && this.refs.length > 0) {
      throw new GatewayError(
        "authentication",
        `No API key available for provider '${provider}' (tried ${this.refs.map(formatKeyRef).join(", ")})`,
        { status: 401, retryable: false },
      );
    }
    return key;
  }
}
