export * from "./databases.ts";
export * from "./log-format.ts";
export * from "./memory.ts";
export * from "./redis-server.ts";
export * from "./restart-backoff.ts";
export * from "./service-process.ts";
export * from "./stack.ts";
export { default as getPort } from "get-port";
