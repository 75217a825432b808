/**
 * Runs a command's body and turns a thrown error into `error: <message>` on stderr
 * and exit code 1 (stack traces only with DEBUG set), so scripts and Jobs fail clearly.
 */
export async function runMain(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    const message = error instanceof Error ? (process.env.DEBUG ? error.stack : error.message) : String(error);
    console.error(`error: ${message}`);
    process.exitCode = 1;
  }
}
