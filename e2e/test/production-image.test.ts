import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, matchesGlob } from "node:path";
import { fileURLToPath } from "node:url";
import { dropDatabase } from "@rentcar/db";
import { getPort, startProcess, type ServiceProcess } from "@rentcar/devstack";
import { signCustomerToken } from "@rentcar/platform";
import { postGraphQL, uniqueDatabaseUrl } from "@rentcar/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inDays, REDIS_URL } from "./support.ts";

/**
 * The image without Docker: copies the build context (the repository as `.dockerignore`
 * filters it) to a temporary directory, runs the Dockerfile's two steps
 * (`scripts/image-build.sh build`, then `runtime <dir>`), and starts the migrations and
 * the four services from that production tree the way the image and the manifests run
 * them: plain `node <entry>` (no tsx), NODE_ENV=production, production secrets.
 */
const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BUILD_TIMEOUT_MS = 15 * 60_000;

/** Files of the working tree that `docker build .` would send (`.dockerignore` applied, last match wins). */
function buildContextFiles(): string[] {
  const rules = readFileSync(join(REPO_ROOT, ".dockerignore"), "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => ({ exclude: !line.startsWith("!"), pattern: line.replace(/^!/, "").replace(/\/$/, "") }));
  const ignored = (file: string) => {
    const paths = file.split("/").map((_, i, parts) => parts.slice(0, i + 1).join("/"));
    let excluded = false;
    for (const rule of rules) if (paths.some((path) => matchesGlob(path, rule.pattern))) excluded = rule.exclude;
    return excluded;
  };
  const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], { cwd: REPO_ROOT, encoding: "utf8" });
  return files.split("\0").filter((file) => file && existsSync(join(REPO_ROOT, file)) && !ignored(file));
}

function run(command: string, args: string[], cwd: string): void {
  try {
    // The npm cache is warm on the machines of this project: no need to revalidate every package.
    const env = { ...process.env, npm_config_prefer_offline: "true" };
    execFileSync(command, args, { cwd, env, encoding: "utf8", stdio: "pipe", timeout: BUILD_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${stdout ?? ""}\n${stderr ?? ""}`);
  }
}

describe("the production image, built and run without Docker", () => {
  const workDir = mkdtempSync(join(tmpdir(), "rentcar-image-"));
  const buildDir = join(workDir, "build");
  const appDir = join(workDir, "app");
  const databaseUrls = { reservation: uniqueDatabaseUrl("reservation"), payment: uniqueDatabaseUrl("payment"), rental: uniqueDatabaseUrl("rental") };
  const secrets = { JWT_SECRET: "production-test-jwt-secret-0123456789", INTERNAL_SECRET: "production-test-internal-secret-0123456789" };
  const services: ServiceProcess[] = [];

  beforeAll(() => {
    for (const file of buildContextFiles()) {
      mkdirSync(dirname(join(buildDir, file)), { recursive: true });
      cpSync(join(REPO_ROOT, file), join(buildDir, file));
    }
    run("bash", ["scripts/image-build.sh", "build"], buildDir);
    run("bash", ["scripts/image-build.sh", "runtime", appDir], buildDir);
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    for (const service of services.reverse()) await service.stop();
    await Promise.all(Object.values(databaseUrls).map((url) => dropDatabase(url)));
    // Two full installs (about 1 GB of files): slow to delete on a busy disk.
    await rm(workDir, { recursive: true, force: true });
  }, 600_000);

  it("holds neither tsx nor typescript, and the generated Prisma clients", () => {
    for (const tool of ["tsx", "typescript", ".bin/tsx", ".bin/tsc"]) expect(existsSync(join(appDir, "node_modules", tool)), tool).toBe(false);
    for (const subgraph of ["reservation", "payment", "rental"]) expect(existsSync(join(appDir, "subgraphs", subgraph, "src", "generated"))).toBe(true);
    expect(execFileSync(process.execPath, ["--version"], { cwd: appDir, encoding: "utf8" })).toMatch(/^v24\./);
  });

  it("migrates, starts the four services with NODE_ENV=production, and answers through the router", { timeout: 180_000 }, async () => {
    const queuePrefix = `{rentcar-image-${Date.now().toString(36)}}`;
    const ports = { router: await getPort(), reservation: await getPort(), payment: await getPort(), rental: await getPort() };
    const common = { NODE_ENV: "production", LOG_LEVEL: "warn", REDIS_URL, QUEUE_PREFIX: queuePrefix, ...secrets };
    const subgraphEnv = {
      reservation: { PORT: String(ports.reservation), DATABASE_URL: databaseUrls.reservation, PAYMENT_URL: `http://127.0.0.1:${ports.payment}/graphql` },
      payment: { PORT: String(ports.payment), DATABASE_URL: databaseUrls.payment },
      rental: { PORT: String(ports.rental), DATABASE_URL: databaseUrls.rental },
    };
    // The init container of each subgraph pod: `node scripts/db-migrate.ts <subgraph>`.
    for (const [subgraph, env] of Object.entries(subgraphEnv)) {
      execFileSync(process.execPath, ["scripts/db-migrate.ts", subgraph], { cwd: appDir, env: { ...process.env, ...common, ...env }, encoding: "utf8", timeout: 120_000 });
    }
    for (const [subgraph, env] of Object.entries(subgraphEnv)) {
      services.push(await startProcess({
        name: subgraph, entry: `subgraphs/${subgraph}/src/main.ts`, cwd: appDir, nodeArgs: [],
        env: { ...common, ...env }, readyUrl: `http://127.0.0.1:${env.PORT}/health/ready`,
      }));
    }
    const routerUrl = `http://127.0.0.1:${ports.router}/graphql`;
    services.push(await startProcess({
      name: "router", entry: "router/src/main.ts", cwd: appDir, nodeArgs: [],
      env: {
        ...common, PORT: String(ports.router),
        RESERVATION_URL: `http://127.0.0.1:${ports.reservation}/graphql`,
        PAYMENT_URL: `http://127.0.0.1:${ports.payment}/graphql`,
        RENTAL_URL: `http://127.0.0.1:${ports.rental}/graphql`,
      },
      readyUrl: `http://127.0.0.1:${ports.router}/health/ready`,
    }));

    const cars = await postGraphQL(routerUrl, "{ cars { id model } }");
    expect(cars.errors).toBeUndefined();
    expect(cars.data?.cars.length).toBeGreaterThan(0);

    const auth = { authorization: `Bearer ${await signCustomerToken(secrets.JWT_SECRET, "image-smoke")}` };
    const reserved = await postGraphQL(
      routerUrl,
      "mutation($input: ReserveCarInput!) { reserveCar(input: $input) { id status car { id } } }",
      { input: { carId: cars.data!.cars[0].id, pickupAt: inDays(3), returnAt: inDays(5) } },
      auth,
    );
    expect(reserved.errors).toBeUndefined();
    // PAYMENT_DELAYED when payment answered slower than PAYMENT_TIMEOUT_MS (a busy machine): still a stored reservation.
    expect(["RESERVED", "PAYMENT_DELAYED"]).toContain(reserved.data?.reserveCar.status);
    expect(reserved.data?.reserveCar.car).toEqual({ id: cars.data!.cars[0].id });
  });
});
