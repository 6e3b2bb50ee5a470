/** A worker thread that takes every message and never answers: a stand-in for work that never ends. */
import { parentPort } from "node:worker_threads";

parentPort?.on("message", () => {});
