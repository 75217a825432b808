import { Cleanup } from "../bench/src/cleanup.ts";
import { startBenchStack } from "../bench/src/bench-stack.ts";
import { RESERVE } from "../bench/src/saga.ts";
const cleanup = new Cleanup();
try {
  const stack = await startBenchStack({ cleanup });
  await stack.stack.restart("reservation", { envOverrides: { ADMISSION_MAX_CONCURRENT: "1", ADMISSION_MAX_QUEUED: "0" } });
  const auth = await stack.auth("x");
  const replies = await Promise.all(Array.from({ length: 6 }, () => stack.router.post(RESERVE, { input: stack.nextSlot() }, auth)));
  for (const r of replies) console.log(JSON.stringify(r).slice(0, 300));
  console.log(stack.stack.service("reservation").output().split("\n").filter((l) => l.includes('"error"') || l.includes('"level":50')).join("\n").slice(0, 3000));
} finally {
  await cleanup.runAll();
}
