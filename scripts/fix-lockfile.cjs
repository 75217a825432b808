#!/usr/bin/env node
// Usage: node scripts/fix-lockfile.cjs package-lock.json
// The npm registry reachable here does not serve turbo's macOS/Windows binaries, so npm leaves
// them out of the lockfile and `npm ci` then refuses it ("Missing: @turbo/darwin-64"). This puts
// their (optional, never installed on Linux) entries back. Run it after changing dependencies.
const fs = require("fs");
const file = process.argv[2];
const lock = JSON.parse(fs.readFileSync(file, "utf8"));
const turbo = lock.packages["node_modules/turbo"];
const platforms = { "darwin-64": ["darwin", "x64"], "darwin-arm64": ["darwin", "arm64"], "windows-64": ["win32", "x64"], "windows-arm64": ["win32", "arm64"] };
for (const [name, [os, cpu]] of Object.entries(platforms)) {
  const key = `node_modules/@turbo/${name}`;
  if (lock.packages[key]) continue;
  lock.packages[key] = { version: turbo.version, cpu: [cpu], dev: true, license: "MIT", optional: true, os: [os] };
}
const sorted = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))));
lock.packages = sorted;
fs.writeFileSync(file, JSON.stringify(lock, null, 2) + "\n");
