import { rememberSecret } from "../../../core/index.js";
import { type KeySources, KeyUnavailableError, parseKeyRef, resolveKeyRef } from "../../../secrets/index.js";

/*
 * Configured MCP header and env values may hold secrets the way provider `apiKeys` do: by reference,
 * so a token never sits in the config file. A value is literal text, a whole reference
 * (`env:GITHUB_TOKEN`), or text with references in `${...}` (`Bearer ${keychain:github}`), which
 * is how an Authorization header wants its token.
 */

const EMBEDDED = /\$\{([^}]*)\}/g;

/** Why a value could not be resolved: names the field and the reference, never a secret. */
export class SecretValueError extends Error {
  override readonly name = "SecretValueError";
}

/**
 * Every value resolved afresh (a rotated key is used from the next connect on), each secret read
 * remembered so no error message can show it. `what` names the map in errors ("header", "env").
 * Returns the values and the secrets among them, for cleaning error text.
 */
export async function resolveSecretValues(
  values: Record<string, string>,
  what: string,
  env: NodeJS.ProcessEnv,
  sources: KeySources,
): Promise<{ values: Record<string, string>; secrets: string[] }> {
  const out: Record<string, string> = {};
  const secrets: string[] = [];
  const read = async (name: string, text: string): Promise<string> => {
    const ref = parseKeyRef(text);
    if (ref === undefined)
      throw new SecretValueError(`${what} ${name}: '\${${text}}' is not a key reference (env:NAME, keychain:NAME, store:NAME)`);
    let secret: string | undefined;
    try {
      secret = await resolveKeyRef(ref, env, sources);
    } catch (err) {
      if (err instanceof KeyUnavailableError) throw new SecretValueError(`${what} ${name}: ${err.message}`);
      throw err;
    }
    if (secret === undefined) throw new SecretValueError(`${what} ${name}: ${text} is not set`);
    rememberSecret(secret);
    secrets.push(secret);
    return secret;
  };
  for (const [name, value] of Object.entries(values)) {
    if (parseKeyRef(value) !== undefined) {
      out[name] = await read(name, value);
      continue;
    }
    let resolved = "";
    let last = 0;
    for (const match of value.matchAll(EMBEDDED)) {
      resolved += value.slice(last, match.index) + (await read(name, match[1] as string));
      last = (match.index as number) + match[0].length;
    }
    out[name] = resolved + value.slice(last);
  }
  return { values: out, secrets };
}
