export * from "./key-ref.js";
export * from "./key-ref-schema.js";
export * from "./keychain.js";
