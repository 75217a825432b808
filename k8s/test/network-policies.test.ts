import { describe, expect, it } from "vitest";
import { kustomizeBuild } from "../src/kustomize-build.ts";
import { networkViolations, PRODUCTION_DATASTORE_IPS } from "../src/policy/network-expectations.ts";
import { canConnect, inCidr, podPeers } from "../src/policy/network-reachability.ts";
import { overlayDir } from "../src/paths.ts";

describe("NetworkPolicies", () => {
  const local = kustomizeBuild(overlayDir("local"));
  const production = kustomizeBuild(overlayDir("production"));

  it.each([["local", local], ["production", production]] as const)("%s: produce exactly the specified connection matrix", (overlay, objects) => {
    expect(networkViolations(objects, overlay)).toEqual([]);
  });

  it("only the router and reservation reach payment; only the router reaches reservation and rental", () => {
    const pods = podPeers(local);
    const [router, reservation, payment, rental] = ["router", "reservation", "payment", "rental"].map((name) => pods.get(name)!);
    expect(canConnect(local, router!, payment!, 4002)).toBe(true);
    expect(canConnect(local, reservation!, payment!, 4002)).toBe(true);
    expect(canConnect(local, rental!, payment!, 4002)).toBe(false);
    expect(canConnect(local, payment!, reservation!, 4001)).toBe(false);
    // The right peer on the wrong port is still denied.
    expect(canConnect(local, router!, payment!, 4001)).toBe(false);
  });

  it("each subgraph reaches only its own in-cluster database (local)", () => {
    const pods = podPeers(local);
    expect(canConnect(local, pods.get("payment")!, pods.get("postgres-payment")!, 5432)).toBe(true);
    expect(canConnect(local, pods.get("payment")!, pods.get("postgres-rental")!, 5432)).toBe(false);
    expect(canConnect(local, pods.get("router")!, pods.get("postgres-payment")!, 5432)).toBe(false);
  });

  it("each subgraph reaches only its own managed database (production CIDRs)", () => {
    const pods = podPeers(production);
    const db = (ip: string) => ({ kind: "external" as const, name: ip, ip });
    expect(canConnect(production, pods.get("rental")!, db(PRODUCTION_DATASTORE_IPS.rental), 5432)).toBe(true);
    expect(canConnect(production, pods.get("rental")!, db(PRODUCTION_DATASTORE_IPS.payment), 5432)).toBe(false);
    expect(canConnect(production, pods.get("router")!, db(PRODUCTION_DATASTORE_IPS.redis), 6379)).toBe(true);
    expect(canConnect(production, pods.get("router")!, db(PRODUCTION_DATASTORE_IPS.rental), 5432)).toBe(false);
  });

  it("evaluates CIDRs", () => {
    expect(inCidr("192.0.2.20", "192.0.2.16/28")).toBe(true);
    expect(inCidr("192.0.2.40", "192.0.2.16/28")).toBe(false);
    expect(inCidr("10.1.2.3", "0.0.0.0/0")).toBe(true);
  });
});
