/** A config problem, naming the file, the path of the bad field and what was expected. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly file: string | undefined;
  readonly path: string | undefined;

  constructor(message: string, options: { file?: string; path?: string } = {}) {
    const where = [options.file, options.path].filter(Boolean).join(": ");
    super(where ? `${where}: ${message}` : message);
    this.file = options.file;
    this.path = options.path;
  }
}
