export * from "./key-ref.js";
export * from "./keychain.js";
