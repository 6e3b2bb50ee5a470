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
