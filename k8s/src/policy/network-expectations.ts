import type { KubeObject } from "../kube-object.ts";
import { SUBGRAPH_NAMES } from "./datastores.ts";
import { canConnect, podPeers, type Peer } from "./network-reachability.ts";

/** Addresses the production overlay's policies name for the managed datastores. */
export const PRODUCTION_DATASTORE_IPS = {
  reservation: "192.0.2.20",
  payment: "192.0.2.40",
  rental: "192.0.2.50",
  redis: "192.0.2.70",
} as const;

const SUBGRAPH_PORTS = { reservation: 4001, payment: 4002, rental: 4003 } as const;
/** Synchronous service-to-service calls: reservation registers payments; rental claims pick-ups. */
const DIRECT_CALLS: ReadonlySet<string> = new Set(["reservation->payment", "rental->reservation"]);

const pod = (name: string, namespace: string, labels: Record<string, string>, ports: Array<{ port: number; protocol: string }> = []): Peer => ({
  kind: "pod", name, namespace, namespaceLabels: { "kubernetes.io/metadata.name": namespace }, labels, ports,
});
const external = (name: string, ip: string): Peer => ({ kind: "external", name, ip });

/**
 * The connection matrix the NetworkPolicies must produce, evaluated on a render:
 * clients reach only the router (through the ingress controller); only the router
 * reaches the subgraphs, plus reservation's direct call to payment and rental's to
 * reservation (pick-up claim); each subgraph
 * reaches only its own database; every service reaches Redis; everyone resolves
 * DNS; nothing else (internet, other namespaces, datastores calling out).
 * @returns one line per connection whose verdict differs from the expectation.
 */
export function networkViolations(objects: KubeObject[], overlay: "local" | "production"): string[] {
  const pods = podPeers(objects);
  const get = (name: string): Peer => {
    const peer = pods.get(name);
    if (!peer) throw new Error(`no pods of ${name} in the render`);
    return peer;
  };
  const ingressController = pod("ingress-nginx-controller", "ingress-nginx", { "app.kubernetes.io/name": "ingress-nginx" });
  const intruder = pod("some-other-app", "default", { app: "other" });
  const kubeDns = pod("coredns", "kube-system", { "k8s-app": "kube-dns" }, [{ port: 53, protocol: "UDP" }, { port: 53, protocol: "TCP" }]);
  const internet = external("internet", "203.0.113.10");
  const services = ["router", ...SUBGRAPH_NAMES].map(get);
  const databaseOf = (subgraph: string): Peer =>
    overlay === "local" ? get(`postgres-${subgraph}`) : external(`${subgraph}-db`, PRODUCTION_DATASTORE_IPS[subgraph as keyof typeof PRODUCTION_DATASTORE_IPS]);
  const redis = overlay === "local" ? get("redis") : external("redis", PRODUCTION_DATASTORE_IPS.redis);

  const expectations: Array<[Peer, Peer, number, boolean, string?]> = [];
  const expect = (from: Peer, to: Peer, port: number, allowed: boolean, protocol?: string) => expectations.push([from, to, port, allowed, protocol]);

  expect(ingressController, get("router"), 4000, true);
  for (const subgraph of SUBGRAPH_NAMES) {
    const port = SUBGRAPH_PORTS[subgraph];
    expect(get("router"), get(subgraph), port, true);
    expect(ingressController, get(subgraph), port, false);
    expect(intruder, get(subgraph), port, false);
    for (const caller of SUBGRAPH_NAMES) {
      if (caller !== subgraph) expect(get(caller), get(subgraph), port, DIRECT_CALLS.has(`${caller}->${subgraph}`));
    }
    expect(get(subgraph), get("router"), 4000, false);
    for (const owner of SUBGRAPH_NAMES) expect(get(subgraph), databaseOf(owner), 5432, owner === subgraph);
    expect(get("router"), databaseOf(subgraph), 5432, false);
    // Managed datastores (production) are guarded by the provider's firewall, not by these policies.
    if (overlay === "local") expect(intruder, databaseOf(subgraph), 5432, false);
  }
  for (const service of services) {
    expect(service, redis, 6379, true);
    expect(service, kubeDns, 53, true, "UDP");
    expect(service, kubeDns, 53, true, "TCP");
    expect(service, internet, 443, false);
  }
  if (overlay === "local") {
    expect(intruder, redis, 6379, false);
    for (const subgraph of SUBGRAPH_NAMES) {
      expect(get(`postgres-${subgraph}`), internet, 443, false);
      expect(get(`postgres-${subgraph}`), redis, 6379, false);
    }
    expect(redis, internet, 443, false);
  }

  return expectations
    .filter(([from, to, port, allowed, protocol]) => canConnect(objects, from, to, port, protocol) !== allowed)
    .map(([from, to, port, allowed, protocol]) => `${from.name} -> ${to.name}:${port}/${protocol ?? "TCP"} is ${allowed ? "denied" : "allowed"}, must be ${allowed ? "allowed" : "denied"}`);
}
