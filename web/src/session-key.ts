/**
 * The client key the user typed, kept for this tab only (sessionStorage: gone when the tab closes,
 * not kept on disk as local storage would be, never put in a URL where history and logs would keep it).
 */
const NAME = "tandem.apiKey";

export function readKey(): string | undefined {
  try {
    return sessionStorage.getItem(NAME) ?? undefined;
  } catch {
    return undefined; // storage disabled: the key lives only as long as the page's state
  }
}

export function saveKey(key: string): void {
  try {
    sessionStorage.setItem(NAME, key);
  } catch {
    // storage disabled: the caller still holds the key in memory
  }
}

export function forgetKey(): void {
  try {
    sessionStorage.removeItem(NAME);
  } catch {
    // nothing kept
  }
}

/**
 * Why the browser cannot send `key` as a header, or undefined when it can. fetch() refuses a header
 * value with a character past U+00FF or a NUL, CR or LF (it throws a TypeError, which would read as
 * tandem being unreachable); server keys are such text anyway, so a key that holds one is a typing slip.
 */
export function unsendableKey(key: string): string | undefined {
  let bad: number | undefined;
  for (const char of key) {
    const point = char.codePointAt(0) ?? 0;
    if (point > 0xff || point === 0 || point === 0x0a || point === 0x0d) {
      bad = point;
      break;
    }
  }
  if (bad === undefined) return undefined;
  const code = bad.toString(16).toUpperCase().padStart(4, "0");
  return `That key cannot be sent: it holds U+${code}, and a key travels in an HTTP header, which takes Latin-1 text without line breaks. Check what was pasted.`;
}
