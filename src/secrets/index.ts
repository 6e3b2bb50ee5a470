export * from "./key-ref.js";
