/**
 * `npm run -s secrets:local -w @rentcar/k8s | kubectl create -f -` creates the
 * Secrets of the local overlay with random values (names and keys from
 * k8s/secrets/secrets.template.yaml). Use `create`, not `apply`: re-running must not
 * change the passwords an initialised in-cluster PostgreSQL already uses.
 */
import { stringify } from "yaml";
import { generateLocalSecrets, loadSecretTemplate } from "../src/policy/secret-template.ts";

const secrets = generateLocalSecrets(loadSecretTemplate());
process.stdout.write(secrets.map((secret) => stringify(secret)).join("---\n"));
