import type { JsonMap, KubeObject } from "../kube-object.ts";
import { ofKind, selectorMatches, workloadsOf, type LabelSelector } from "./workloads.ts";

/** A pod (by its labels and namespace) or an address outside the cluster. */
export type Peer =
  | { kind: "pod"; name: string; namespace: string; namespaceLabels: Record<string, string>; labels: Record<string, string>; ports: Array<{ name?: string; port: number; protocol: string }> }
  | { kind: "external"; name: string; ip: string };

/**
 * The pods of every workload of a render, as peers (namespace labels include the
 * automatic `kubernetes.io/metadata.name`).
 */
export function podPeers(objects: KubeObject[]): Map<string, Peer> {
  const peers = new Map<string, Peer>();
  for (const workload of workloadsOf(objects)) {
    const namespace = workload.object.metadata.namespace ?? "default";
    const ns = objects.find((o) => o.kind === "Namespace" && o.metadata.name === namespace);
    const ports = ((workload.podSpec.containers as JsonMap[]) ?? []).flatMap((c) =>
      ((c.ports as JsonMap[]) ?? []).map((p) => ({ ...(typeof p.name === "string" ? { name: p.name } : {}), port: Number(p.containerPort), protocol: String(p.protocol ?? "TCP") })));
    peers.set(workload.object.metadata.name, {
      kind: "pod",
      name: workload.object.metadata.name,
      namespace,
      namespaceLabels: { ...ns?.metadata.labels, "kubernetes.io/metadata.name": namespace },
      labels: workload.podLabels,
      ports,
    });
  }
  return peers;
}

interface PolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface PolicyPort {
  port?: number | string;
  endPort?: number;
  protocol?: string;
}
interface PolicyRule {
  peers?: PolicyPeer[];
  ports?: PolicyPort[];
}

/**
 * Whether NetworkPolicy lets `from` open a connection to `to` on `port`/`protocol`,
 * following the NetworkPolicy API semantics: a pod selected by no policy of a
 * direction is open in that direction; a selected pod admits only what some rule
 * of some selecting policy allows (rules are unioned); both the source's egress
 * and the destination's ingress must allow. `ipBlock` matches external addresses only.
 */
export function canConnect(objects: KubeObject[], from: Peer, to: Peer, port: number, protocol = "TCP"): boolean {
  const policies = ofKind(objects, "NetworkPolicy");
  const side = (subject: Peer, direction: "Ingress" | "Egress", other: Peer): boolean => {
    if (subject.kind !== "pod") return true;
    const selecting = policies.filter((policy) => {
      const spec = policy.spec as JsonMap;
      return (policy.metadata.namespace ?? "default") === subject.namespace
        && selectorMatches(spec.podSelector as LabelSelector, subject.labels)
        && policyTypes(spec).includes(direction);
    });
    if (selecting.length === 0) return true;
    return selecting.some((policy) => {
      const spec = policy.spec as JsonMap;
      const rules = (direction === "Ingress" ? spec.ingress : spec.egress) as JsonMap[] | undefined;
      return (rules ?? []).some((raw) => {
        const rule: PolicyRule = { peers: (direction === "Ingress" ? raw.from : raw.to) as PolicyPeer[] | undefined, ports: raw.ports as PolicyPort[] | undefined };
        const destination = direction === "Ingress" ? subject : other;
        return portsAllow(rule.ports, destination, port, protocol)
          && (!rule.peers || rule.peers.length === 0 || rule.peers.some((peer) => peerMatches(peer, policy.metadata.namespace ?? "default", other)));
      });
    });
  };
  return side(from, "Egress", to) && side(to, "Ingress", from);
}

function policyTypes(spec: JsonMap): string[] {
  if (Array.isArray(spec.policyTypes)) return spec.policyTypes as string[];
  return spec.egress ? ["Ingress", "Egress"] : ["Ingress"];
}

function portsAllow(ports: PolicyPort[] | undefined, destination: Peer, port: number, protocol: string): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((entry) => {
    if ((entry.protocol ?? "TCP") !== protocol) return false;
    if (entry.port === undefined) return true;
    if (typeof entry.port === "string") {
      return destination.kind === "pod" && destination.ports.some((p) => p.name === entry.port && p.port === port && p.protocol === protocol);
    }
    return entry.endPort !== undefined ? port >= entry.port && port <= entry.endPort : port === entry.port;
  });
}

function peerMatches(peer: PolicyPeer, policyNamespace: string, other: Peer): boolean {
  if (peer.ipBlock) {
    return other.kind === "external" && inCidr(other.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((cidr) => inCidr(other.ip, cidr));
  }
  if (other.kind !== "pod") return false;
  const namespaceOk = peer.namespaceSelector ? selectorMatches(peer.namespaceSelector, other.namespaceLabels) : other.namespace === policyNamespace;
  const podOk = peer.podSelector ? selectorMatches(peer.podSelector, other.labels) : true;
  return namespaceOk && podOk;
}

/** Whether an IPv4 address lies in a CIDR block. */
export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split("/");
  const toInt = (address: string) => address.split(".").reduce((acc, octet) => (acc << 8) + Number(octet), 0) >>> 0;
  const prefix = Number(bits ?? 32);
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return ((toInt(ip) & mask) >>> 0) === ((toInt(base as string) & mask) >>> 0);
}

/** Policies whose podSelector selects no pod of the render (likely a label typo). */
export function orphanPolicies(objects: KubeObject[]): string[] {
  const pods = [...podPeers(objects).values()];
  return ofKind(objects, "NetworkPolicy")
    .filter((policy) => !pods.some((pod) => pod.kind === "pod" && selectorMatches((policy.spec as JsonMap).podSelector as LabelSelector, pod.labels)))
    .map((policy) => `NetworkPolicy ${policy.metadata.name} selects no pod`);
}

