import { webcrypto } from "node:crypto";

/**
 * HS256 keys imported once per secret. jose imports a raw `Uint8Array` secret into a
 * WebCrypto key on every sign and verify (a measurable share of the router's CPU per
 * subgraph call); an imported `CryptoKey` is used as is.
 */
const keys = new Map<string, Promise<webcrypto.CryptoKey>>();
/** Distinct secrets kept at most (a process has one or two; tests a few more). */
const MAX_SECRETS = 16;

/** The HMAC SHA-256 key of `secret` (sign and verify), imported on first use. */
export function hmacKey(secret: string): Promise<webcrypto.CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    if (keys.size >= MAX_SECRETS) keys.delete(keys.keys().next().value!);
    key = webcrypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    keys.set(secret, key);
  }
  return key;
}
