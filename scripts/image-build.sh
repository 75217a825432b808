#!/usr/bin/env bash
# The image's build and runtime steps, in one place: the Dockerfile runs them, and so
# does the production test (e2e/test/production-image.test.ts) in a temporary directory
# without Docker, so that test runs exactly what the image runs.
#
#   scripts/image-build.sh build            in a copy of the build context: every dependency,
#                                           then the generated Prisma clients (offline)
#   scripts/image-build.sh runtime <dir>    after `build`, in the same directory: writes the
#                                           production tree to <dir> (sources, migrations,
#                                           generated clients, production dependencies)
#
# There is no compile step: Node 24 runs the TypeScript sources itself (type stripping;
# the code is erasable-only TypeScript, `erasableSyntaxOnly` in tsconfig.json), so the
# production tree has neither tsx nor typescript (`runtime` fails if it finds them).
set -euo pipefail

case "${1:-}" in
  build)
    npm ci --no-audit --no-fund
    npm run generate
    ;;
  runtime)
    out="${2:?usage: image-build.sh runtime <dir>}"
    mkdir -p "$out"
    # Everything but installed packages and build caches; generated clients included.
    tar --create --exclude=node_modules --exclude=.turbo --file=- . | tar --extract --directory="$out"
    cd "$out"
    # --omit=optional too: npm keeps `typescript` under --omit=dev alone, because it is an
    # optional peer of @prisma/client and prisma (lockfile: devOptional). The other optional
    # packages are msgpackr-extract (a native speed-up msgpackr does without) and pg-cloudflare.
    npm ci --omit=dev --omit=optional --no-audit --no-fund
    for tool in tsx typescript; do
      if [[ -e "node_modules/$tool" ]]; then
        echo "image-build.sh: the production tree contains $tool (a dev tool must be a devDependency)" >&2
        exit 1
      fi
    done
    ;;
  *)
    echo "usage: scripts/image-build.sh build | runtime <dir>" >&2
    exit 2
    ;;
esac
