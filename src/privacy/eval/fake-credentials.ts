/*
 * Well-formed but fake credentials for the labelled examples and tests. They are generated from a
 * fixed seed, and their prefixes are assembled at runtime, so that no literal in this repository
 * looks like a live key to secret scanners (GitHub push protection, gitleaks) while the detectors
 * still see exactly the real formats.
 */

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const BASE64URL = `${ALNUM}-_`;
const BASE64 = `${ALNUM}+/`;
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** mulberry32: a tiny deterministic PRNG, so the fakes are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const next = prng(20240611);

/** `length` characters drawn from `alphabet`, at least one digit, one upper- and one lower-case letter where the alphabet has them. */
export function randomString(alphabet: string, length: number, random: () => number = next): string {
  for (;;) {
    let s = "";
    for (let i = 0; i < length; i++) s += alphabet[Math.floor(random() * alphabet.length)];
    const wants = [/[0-9]/, /[A-Z]/, /[a-z]/].filter((re) => re.test(alphabet));
    if (wants.every((re) => re.test(s))) return s;
  }
}

const join = (...parts: string[]) => parts.join("");

function base64url(s: string): string {
  return Buffer.from(s).toString("base64url");
}

export const FAKE = {
  openaiProject: join("sk", "-proj-", randomString(BASE64URL, 74)),
  openaiLegacy: join("sk", "-", randomString(ALNUM, 48)),
  anthropic: join("sk", "-ant-", "api03-", randomString(BASE64URL, 93), "AA"),
  awsAccessKeyId: join("AK", "IA", randomString(BASE32, 16)),
  awsSessionKeyId: join("AS", "IA", randomString(BASE32, 16)),
  awsSecret: randomString(BASE64, 40),
  githubPat: join("gh", "p_", randomString(ALNUM, 36)),
  githubApp: join("gh", "s_", randomString(ALNUM, 36)),
  githubFineGrained: join("github", "_pat_", randomString(ALNUM, 22), "_", randomString(ALNUM, 59)),
  slackBot: join("xo", "xb-", "2854016832-", "4710364917520-", randomString(ALNUM, 24)),
  slackUser: join("xo", "xp-", "2854016832-", "2857201953-", "4710364917521-", randomString("abcdef0123456789", 32)),
  stripeLive: join("sk", "_live_", randomString(ALNUM, 24)),
  stripeRestricted: join("rk", "_live_", randomString(ALNUM, 24)),
  googleApi: join("AI", "za", randomString(BASE64URL, 35)),
  gitlab: join("gl", "pat-", randomString(ALNUM, 20)),
  jwt: join(
    base64url('{"alg":"HS256","typ":"JWT"}'),
    ".",
    base64url('{"sub":"1234567890","name":"Jane Roe","iat":1716239022}'),
    ".",
    randomString(BASE64URL, 43),
  ),
  pemBody: Array.from({ length: 6 }, () => randomString(BASE64, 64)).join("\n"),
  tokens: Array.from({ length: 8 }, (_, i) => randomString(ALNUM, 20 + i * 4)),
  base64Token: `${randomString(BASE64, 42)}==`,
  npm: join("np", "m_", randomString(ALNUM, 36)),
  upperSerial: randomString(UPPER_ALNUM, 12),
};

/** A PEM private key block around the fake body. */
export function fakePrivateKey(label = "RSA PRIVATE KEY"): string {
  return `-----BEGIN ${label}-----\n${FAKE.pemBody}\n-----END ${label}-----`;
}
