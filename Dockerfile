# syntax=docker/dockerfile:1.7
#
# One image for every deployable of the rentcar supergraph. The router, the three
# subgraphs and the migration entrypoint differ only in their command:
#
#   docker run rentcar:dev                                    # router (default CMD)
#   docker run rentcar:dev subgraphs/reservation/src/main.ts  # a subgraph
#   docker run rentcar:dev scripts/db-migrate.ts payment      # migrations (DATABASE_URL)
#
# The Kubernetes manifests (k8s/) set the full exec-form command per Deployment.
# Node 24 runs the TypeScript sources itself (type stripping; the code is erasable-only
# TypeScript), so there is no compile step and no transpiler in the image: the build
# stage installs everything and generates the Prisma clients, then writes the
# production tree (no tsx, no typescript). Both steps are scripts/image-build.sh, which
# the production test (e2e/test/production-image.test.ts) runs the same way without Docker.

ARG NODE_IMAGE=node:24.21.0-bookworm-slim

# ---- base: the npm the lockfile was written with -----------------------------------
FROM ${NODE_IMAGE} AS base
ARG NPM_VERSION=11.19.1
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false \
    TURBO_TELEMETRY_DISABLED=1 \
    DO_NOT_TRACK=1
RUN npm install -g "npm@${NPM_VERSION}"
WORKDIR /app

# ---- build: all dependencies, the generated Prisma clients, then the production tree --
FROM base AS build
# The build context (see .dockerignore: no node_modules, no generated code, no tests).
COPY . .
RUN --mount=type=cache,target=/root/.npm bash scripts/image-build.sh build
RUN --mount=type=cache,target=/root/.npm bash scripts/image-build.sh runtime /runtime

# ---- runtime -------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# Nothing runs a package manager at run time: drop them from the image.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg
WORKDIR /app
# Files stay owned by root and read-only for the app user; Kubernetes additionally
# mounts the root filesystem read-only (with an emptyDir on /tmp for anything that wants one).
COPY --from=build /runtime ./
# Numeric so that Kubernetes' runAsNonRoot can verify it (uid 1000 is `node` in the base image).
USER 1000:1000
EXPOSE 4000 4001 4002 4003
# Exec form: node is PID 1 and receives SIGTERM itself (the services drain on it).
ENTRYPOINT ["node"]
CMD ["router/src/main.ts"]
