/** Types of build-web.mjs, for the tests that bundle the console themselves. */
export declare const DEFAULT_OUT_DIR: string;
export declare function buildConsole(options?: {
  outDir?: string;
  minify?: boolean;
}): Promise<{ outDir: string; files: { name: string; bytes: number }[] }>;
