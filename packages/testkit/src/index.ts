export * from "./databases.ts";
export * from "./graphql-client.ts";
export { getPort } from "@rentcar/devstack";
export * from "./redis-cluster.ts";
