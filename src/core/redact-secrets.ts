import { homedir } from "node:os";

/** What a secret is replaced with, wherever error text may show it. */
export const SECRET_MASK = "[redacted]";

/**
 * Known secrets shorter than this are not masked: masking every "abc" in a message would make it
 * unreadable, and keys this short are not keys anyone issues.
 */
const MIN_SECRET_LENGTH = 8;

/**
 * Every secret this process holds and may send: provider keys as the key pools resolve them, the
 * keys put in upstream headers, configured auth headers, client keys. Process-wide on purpose: an
 * error's message is cleaned where the GatewayError is built (see errors.ts), and the code that
 * builds one (a stream parser, a status mapping) should not have to be handed the keys. It only
 * grows with the keys configured or rotated in, which stay few.
 */
const known = new Set<string>();

/** Adds a secret to the ones masked in every error message from now on. Cheap to call per request. */
export function rememberSecret(value: string | undefined): void {
  if (value === undefined || value.length < MIN_SECRET_LENGTH || known.has(value)) return;
  known.add(value);
}

/**
 * Shapes that are keys whatever they belong to: an `Authorization` value, OpenAI and Anthropic keys,
 * key-like query parameters in a URL, and `name: value` / `name=value` pairs whose name says secret.
 * Each is anchored on a literal prefix, with bounded quantifiers, so a scan stays linear.
 */
const SHAPES: readonly [RegExp, string][] = [
  [/\b(Bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${SECRET_MASK}`],
  // Basic credentials are base64: a digit, + / or = tells them from a word ("Basic authentication").
  [/\bBasic\s+(?=[A-Za-z]*[0-9+/=])[A-Za-z0-9+/]{8,}={0,2}/g, `Basic ${SECRET_MASK}`],
  // `*` too: upstreams echo keys half-masked (`sk-abc***xyz`), which still says too much.
  [/(?<![\w-])sk-(?:ant-)?[A-Za-z0-9_*-]{8,400}/g, SECRET_MASK],
  [/(?<![\w-])AIza[0-9A-Za-z_-]{30,40}/g, SECRET_MASK],
  // Credentials in a URL's userinfo: https://user:secret@host/.
  [/(\/\/)[^/\s:@]+:[^/\s@]+@/g, `$1${SECRET_MASK}@`],
  [/([?&](?:api[_-]?key|key|token|access_token|auth|sig|signature)=)[^&\s"'#<>]{4,}/gi, `$1${SECRET_MASK}`],
  // The name may be part of a longer one (`db_password`, `AWS_SECRET_ACCESS_KEY`, `client-secret`).
  [
    /(?<![A-Za-z0-9])((?:[A-Za-z0-9]{1,40}[_-]){0,4}(?:api[_-]?key|authorization|access[_-]?token|auth[_-]?token|secret|password|passwd|pwd|private[_-]?key)(?:[_-][A-Za-z0-9]{1,40}){0,4})(["']?\s*[:=]\s*["']?)(?!Bearer\b|Basic\b)[^\s"'&,;<>]{6,}/gi,
    `$1$2${SECRET_MASK}`,
  ],
];

/**
 * The text with every known secret, every extra one given (the key sent with the request that
 * failed) and every key-shaped token replaced by SECRET_MASK. Clean the whole text before cutting
 * it: a cut first could leave the start of a key that no longer matches.
 */
export function redactSecrets(text: string, extra?: Iterable<string | undefined>): string {
  let out = text;
  if (extra !== undefined) {
    for (const secret of extra) {
      if (secret !== undefined && secret.length >= MIN_SECRET_LENGTH) out = withoutSecret(out, secret);
    }
  }
  for (const secret of known) out = withoutSecret(out, secret);
  for (const [re, replacement] of SHAPES) out = out.replace(re, replacement);
  return out;
}

/**
 * A secret's other forms shorter than this are not masked: they would match ordinary text. A key's
 * random body is longer (OpenAI's and Anthropic's are 40 characters and more).
 */
const MIN_FORM_LENGTH = 16;

/**
 * Prefixes that say what kind of key it is rather than which key: an upstream may echo a key without
 * its prefix (as some services echo a token without its scheme). Longest first.
 */
const KEY_PREFIXES =
  /^(?:sk-ant-(?:api\d\d-|admin\d\d-)?|sk-proj-|sk-svcacct-|sk-or-v1-|sk-|xai-|gsk_|pplx-|hf_|ghp_|github_pat_|AIza|r8_)/;

/** The expressions that find a secret's other forms (see secretForms), by secret; bounded, as `known` is few. */
const formsCache = new Map<string, { body?: RegExp; encoded?: RegExp }>();

/** The text with the secret replaced: as it is, its body in any case, and in base64 and base64url. */
function withoutSecret(text: string, secret: string): string {
  let out = text.includes(secret) ? text.replaceAll(secret, SECRET_MASK) : text;
  let forms = formsCache.get(secret);
  if (forms === undefined) {
    forms = secretForms(secret);
    if (formsCache.size >= 256) formsCache.clear();
    formsCache.set(secret, forms);
  }
  if (forms.body !== undefined) out = out.replace(forms.body, SECRET_MASK);
  if (forms.encoded !== undefined) out = out.replace(forms.encoded, SECRET_MASK);
  return out;
}

/**
 * What else a secret may be echoed as: its distinctive body (the part after a known prefix such as
 * `sk-`) in any case (an upstream that upper-cases what it quotes, or drops the prefix), and the
 * secret in base64 and base64url at each of the three alignments it can have inside a longer
 * encoded text (`user:key` in a Basic header), cut to the characters that depend on the secret's
 * bytes alone. Forms shorter than MIN_FORM_LENGTH are left out.
 */
function secretForms(secret: string): { body?: RegExp; encoded?: RegExp } {
  const body = secret.replace(KEY_PREFIXES, "");
  const encoded = new Set<string>();
  const bytes = Buffer.from(secret, "utf8");
  for (let align = 0; align < 3; align++) {
    const text = Buffer.concat([Buffer.alloc(align), bytes]).toString("base64");
    const total = align + bytes.length;
    // The characters that mix in the filler before or whatever follows the secret are cut.
    const start = align === 0 ? 0 : align + 1;
    const end = text.replace(/=+$/, "").length - (total % 3 === 0 ? 0 : 1);
    const form = text.slice(start, end);
    if (form.length < MIN_FORM_LENGTH) continue;
    encoded.add(form);
    encoded.add(form.replaceAll("+", "-").replaceAll("/", "_"));
  }
  return {
    ...(body.length >= MIN_FORM_LENGTH && { body: new RegExp(escapeRegExp(body), "gi") }),
    ...(encoded.size > 0 && { encoded: new RegExp([...encoded].map(escapeRegExp).join("|"), "g") }),
  };
}

let home: string | undefined;

/** `/home/ann/models/x.gguf` -> `~/models/x.gguf`: a path under the user's home says who they are. */
export function redactHomePath(text: string): string {
  home ??= homedir().replace(/\/+$/, "");
  if (home.length < 2 || !text.includes(home)) return text;
  return text.replaceAll(`${home}/`, "~/").replace(new RegExp(`${escapeRegExp(home)}(?![\\w.-])`, "g"), "~");
}

/** What an error message may show anyone: no secrets, no home directory. */
export function cleanErrorText(text: string): string {
  return redactHomePath(redactSecrets(text));
}

/** A short excerpt of an upstream's text for an error message (whole lines of HTML pages are useless). */
export function errorExcerpt(text: string, max = 500): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
