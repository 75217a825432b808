/**
 * The light entry point for command-line tools (`@rentcar/platform/local-stack`): the
 * local stack configuration and token signing, without the server code of the main entry.
 */
export * from "./local-stack-config.ts";
export { ConfigError } from "./config.ts";
export { LOCAL_JWT_SECRET, signCustomerToken } from "./customer-token.ts";
