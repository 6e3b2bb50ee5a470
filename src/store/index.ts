export * from "./database-key.js";
export * from "./migrations.js";
export * from "./open-data-store.js";
export * from "./open-database.js";
export * from "./records.js";
export * from "./since.js";
export * from "./store.js";
export * from "./store-error.js";
