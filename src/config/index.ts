export * from "./config-error.js";
export * from "./discover.js";
export * from "./load.js";
export * from "./paths.js";
export * from "./schema.js";
