import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

/**
 * Starts one of the store's worker threads: `name` is a module of this folder (`store-thread`,
 * `checkpoint-thread`). From the built code it is the `.js` file; from TypeScript sources (tests,
 * `npm run dev`) tsx is registered in the thread first, then the `.ts` module is imported.
 */
export function startStoreWorker(name: string, workerData: unknown): Worker {
  return startWorkerModule(new URL(`./${name}.js`, import.meta.url), workerData);
}

/**
 * Starts a worker thread on a module of tandem (its URL as built, `….js`): from TypeScript sources
 * (tests, `npm run dev`) tsx is registered in the thread first, then the `.ts` module is imported.
 */
export function startWorkerModule(built: URL, workerData?: unknown): Worker {
  const ts = fileURLToPath(import.meta.url).endsWith(".ts");
  const entry = ts ? new URL(built.href.replace(/\.js$/, ".ts")) : built;
  if (!ts) return new Worker(entry, { workerData });
  const tsx = JSON.stringify(import.meta.resolve("tsx/esm/api"));
  const code = `import(${tsx}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(code, { eval: true, workerData });
}
