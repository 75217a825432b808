import { isMap, type JsonMap, type KubeObject } from "../kube-object.ts";
import { effectiveEnv, type SecretCatalog } from "./container-env.ts";
import { parseQuantity } from "./quantity.ts";
import { containersOfWorkloads, workloadsOf } from "./workloads.ts";

/**
 * Every regular container has a readiness and a liveness probe whose HTTP port (if
 * any) is one the container declares; the rentcar services (Deployments) probe
 * `/health/ready` and `/health/live`.
 */
export function probeViolations(objects: KubeObject[]): string[] {
  const violations: string[] = [];
  for (const { workload, list, container, where } of containersOfWorkloads(objects)) {
    if (list !== "containers") continue;
    const ports = Array.isArray(container.ports) ? container.ports.filter(isMap) : [];
    for (const probe of ["readinessProbe", "livenessProbe"] as const) {
      const spec = container[probe];
      if (!isMap(spec)) {
        violations.push(`${where}: no ${probe}`);
        continue;
      }
      const http = isMap(spec.httpGet) ? spec.httpGet : undefined;
      if (http && !ports.some((port) => port.name === http.port || port.containerPort === http.port)) {
        violations.push(`${where}: ${probe} targets undeclared port ${String(http.port)}`);
      }
      if (workload.object.kind === "Deployment") {
        const expected = probe === "readinessProbe" ? "/health/ready" : "/health/live";
        if (http?.path !== expected) violations.push(`${where}: ${probe} must GET ${expected}`);
      }
    }
  }
  return violations;
}

/** Every container (init containers included) requests and limits CPU and memory, requests <= limits. */
export function resourceViolations(objects: KubeObject[]): string[] {
  const violations: string[] = [];
  for (const { container, where } of containersOfWorkloads(objects)) {
    const resources = isMap(container.resources) ? container.resources : {};
    for (const resource of ["cpu", "memory"]) {
      const request = isMap(resources.requests) ? resources.requests[resource] : undefined;
      const limit = isMap(resources.limits) ? resources.limits[resource] : undefined;
      if (request === undefined) violations.push(`${where}: no ${resource} request`);
      if (limit === undefined) violations.push(`${where}: no ${resource} limit`);
      if (request !== undefined && limit !== undefined && parseQuantity(request) > parseQuantity(limit)) {
        violations.push(`${where}: ${resource} request ${String(request)} exceeds its limit ${String(limit)}`);
      }
    }
  }
  return violations;
}

const RESTRICTED_VOLUME_TYPES = new Set(["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"]);

/**
 * The "restricted" Pod Security Standard (what the namespace enforces), plus a
 * read-only root filesystem for every container: non-root (runAsNonRoot, uid != 0),
 * no privilege escalation, all capabilities dropped, RuntimeDefault/Localhost
 * seccomp, no host namespaces, ports or paths, only the allowed volume types.
 */
export function podSecurityViolations(objects: KubeObject[]): string[] {
  const violations: string[] = [];
  for (const workload of workloadsOf(objects)) {
    const pod = workload.podSpec;
    const podContext = isMap(pod.securityContext) ? pod.securityContext : {};
    for (const field of ["hostNetwork", "hostPID", "hostIPC"]) if (pod[field] === true) violations.push(`${workload.id}: ${field}`);
    for (const volume of Array.isArray(pod.volumes) ? pod.volumes.filter(isMap) : []) {
      const type = Object.keys(volume).find((key) => key !== "name");
      if (!type || !RESTRICTED_VOLUME_TYPES.has(type)) violations.push(`${workload.id}: volume ${String(volume.name)} of type ${String(type)} is not allowed`);
    }
    if (podContext.runAsUser === 0) violations.push(`${workload.id}: pod runs as uid 0`);
    for (const { container, where } of containersOfWorkloads([workload.object])) {
      const context = isMap(container.securityContext) ? container.securityContext : {};
      const effective = (field: string) => (context[field] !== undefined ? context[field] : podContext[field]);
      if (effective("runAsNonRoot") !== true) violations.push(`${where}: runAsNonRoot is not true`);
      if (effective("runAsUser") === 0) violations.push(`${where}: runs as uid 0`);
      if (context.allowPrivilegeEscalation !== false) violations.push(`${where}: allowPrivilegeEscalation is not false`);
      if (context.privileged === true) violations.push(`${where}: privileged`);
      if (context.readOnlyRootFilesystem !== true) violations.push(`${where}: readOnlyRootFilesystem is not true`);
      const capabilities = isMap(context.capabilities) ? context.capabilities : {};
      if (!(Array.isArray(capabilities.drop) && capabilities.drop.includes("ALL"))) violations.push(`${where}: capabilities do not drop ALL`);
      const added = Array.isArray(capabilities.add) ? capabilities.add : [];
      if (added.some((cap) => cap !== "NET_BIND_SERVICE")) violations.push(`${where}: adds capabilities ${added.join(",")}`);
      const seccomp = effective("seccompProfile");
      if (!isMap(seccomp) || (seccomp.type !== "RuntimeDefault" && seccomp.type !== "Localhost")) violations.push(`${where}: seccompProfile is not RuntimeDefault/Localhost`);
      for (const port of Array.isArray(container.ports) ? container.ports.filter(isMap) : []) {
        if (port.hostPort) violations.push(`${where}: hostPort ${String(port.hostPort)}`);
      }
    }
  }
  return violations;
}

/**
 * Zero-downtime rollouts: every Deployment rolls (RollingUpdate, maxUnavailable 0,
 * maxSurge >= 1), leaves spec.replicas to its HPA, has a preStop sleep, and a
 * terminationGracePeriodSeconds covering the whole drain: preStop sleep +
 * SHUTDOWN_DELAY_MS (default 0) + SHUTDOWN_TIMEOUT_MS + 5 s to close pools and Redis.
 * The kubelet counts the grace period from the start of preStop and SIGKILLs after it.
 */
export function rolloutViolations(objects: KubeObject[], secrets: SecretCatalog): string[] {
  const violations: string[] = [];
  for (const workload of workloadsOf(objects).filter((w) => w.object.kind === "Deployment")) {
    const spec = workload.object.spec as JsonMap;
    const strategy = isMap(spec.strategy) ? spec.strategy : {};
    const rolling = isMap(strategy.rollingUpdate) ? strategy.rollingUpdate : {};
    if (strategy.type !== "RollingUpdate") violations.push(`${workload.id}: strategy is not RollingUpdate`);
    if (rolling.maxUnavailable !== 0 && rolling.maxUnavailable !== "0%") violations.push(`${workload.id}: maxUnavailable is not 0`);
    if (!(Number(rolling.maxSurge) >= 1 || (typeof rolling.maxSurge === "string" && parseInt(rolling.maxSurge, 10) > 0))) {
      violations.push(`${workload.id}: maxSurge must allow at least one extra pod`);
    }
    if (spec.replicas !== undefined) violations.push(`${workload.id}: sets spec.replicas (the HPA owns the replica count)`);
    const grace = typeof workload.podSpec.terminationGracePeriodSeconds === "number" ? workload.podSpec.terminationGracePeriodSeconds : 30;
    for (const { container, where, list } of containersOfWorkloads([workload.object])) {
      if (list !== "containers") continue;
      const preStop = isMap(container.lifecycle) && isMap(container.lifecycle.preStop) ? container.lifecycle.preStop : undefined;
      const sleep = preStopSleepSeconds(preStop);
      if (sleep === undefined || sleep < 1) {
        violations.push(`${where}: no preStop sleep (endpoints must drop the pod before SIGTERM)`);
        continue;
      }
      const { env } = effectiveEnv(container, objects, workload.object.metadata.namespace, secrets);
      const timeout = env.get("SHUTDOWN_TIMEOUT_MS");
      const timeoutSeconds = timeout?.kind === "value" ? Number(timeout.value) / 1000 : Number.NaN;
      const delay = env.get("SHUTDOWN_DELAY_MS");
      const delaySeconds = delay === undefined ? 0 : delay.kind === "value" ? Number(delay.value) / 1000 : Number.NaN;
      if (!Number.isFinite(timeoutSeconds)) violations.push(`${where}: SHUTDOWN_TIMEOUT_MS is not set`);
      else if (!Number.isFinite(delaySeconds)) violations.push(`${where}: SHUTDOWN_DELAY_MS is not a number from a ConfigMap`);
      else if (grace < sleep + delaySeconds + timeoutSeconds + 5) {
        violations.push(`${where}: terminationGracePeriodSeconds ${grace} < preStop ${sleep} s + SHUTDOWN_DELAY_MS ${delaySeconds} s + SHUTDOWN_TIMEOUT_MS ${timeoutSeconds} s + 5 s`);
      }
    }
  }
  return violations;
}

/** Seconds a preStop hook sleeps (`exec: sleep N` or the `sleep` action), else undefined. */
export function preStopSleepSeconds(preStop: JsonMap | undefined): number | undefined {
  if (!preStop) return undefined;
  if (isMap(preStop.sleep) && typeof preStop.sleep.seconds === "number") return preStop.sleep.seconds;
  const command = isMap(preStop.exec) && Array.isArray(preStop.exec.command) ? preStop.exec.command : [];
  if (command.length === 2 && (command[0] === "sleep" || command[0] === "/bin/sleep")) return Number(command[1]);
  return undefined;
}

/**
 * Every image names an explicit tag or digest, never `latest`; with
 * `requireRegistry` (production) also a registry host, so nothing resolves to a
 * locally loaded or Docker Hub image by accident.
 */
export function imageViolations(objects: KubeObject[], options: { requireRegistry: boolean }): string[] {
  const violations: string[] = [];
  for (const { container, where } of containersOfWorkloads(objects)) {
    const image = String(container.image ?? "");
    const { name, tag, digest } = splitImage(image);
    if (!tag && !digest) violations.push(`${where}: image ${image} has neither tag nor digest (means latest)`);
    if (tag === "latest") violations.push(`${where}: image ${image} uses the latest tag`);
    const host = name.includes("/") ? name.slice(0, name.indexOf("/")) : "";
    if (options.requireRegistry && !/[.:]/.test(host) && host !== "localhost") violations.push(`${where}: image ${image} names no registry`);
  }
  return violations;
}

/** Splits `host[:port]/path[:tag][@digest]`: a colon before the last `/` is a registry port, not a tag. */
function splitImage(image: string): { name: string; tag: string; digest: string } {
  const at = image.indexOf("@");
  const reference = at < 0 ? image : image.slice(0, at);
  const digest = at < 0 ? "" : image.slice(at + 1);
  const colon = reference.indexOf(":", reference.lastIndexOf("/") + 1);
  return colon < 0 ? { name: reference, tag: "", digest } : { name: reference.slice(0, colon), tag: reference.slice(colon + 1), digest };
}
