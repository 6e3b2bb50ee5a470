export * from "./revision-2026.js";
