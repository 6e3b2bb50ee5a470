import { type Keychain, KeychainError } from "../../src/secrets/index.js";

/** An in-memory keychain; `unavailable` makes every call fail the way a machine without one does. */
export class FakeKeychain implements Keychain {
  readonly entries = new Map<string, string>();
  readonly description = "fake keychain, service tandem";
  unavailable: string | undefined;
  calls = 0;

  constructor(options: { unavailable?: string; entries?: Record<string, string> } = {}) {
    this.unavailable = options.unavailable;
    for (const [k, v] of Object.entries(options.entries ?? {})) this.entries.set(k, v);
  }

  async get(account: string): Promise<string | undefined> {
    this.#check();
    return this.entries.get(account);
  }

  async set(account: string, secret: string): Promise<void> {
    this.#check();
    this.entries.set(account, secret);
  }

  async delete(account: string): Promise<boolean> {
    this.#check();
    return this.entries.delete(account);
  }

  async accounts(): Promise<string[]> {
    this.#check();
    return [...this.entries.keys()].sort();
  }

  #check(): void {
    this.calls += 1;
    if (this.unavailable !== undefined) throw new KeychainError(`OS keychain: ${this.unavailable}`);
  }
}
