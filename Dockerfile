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
# Services run TypeScript directly through `node --import tsx` (tsx is a production
# dependency), so there is no separate compile step; the build stage only installs
# everything and generates the Prisma clients.

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

# ---- source: the build context (see .dockerignore: no node_modules, no generated code)
FROM base AS source
COPY . .

# ---- build: all dependencies, then the generated Prisma clients (offline) -----------
FROM source AS build
RUN --mount=type=cache,target=/root/.npm npm ci
RUN npm run generate

# ---- prod-deps: production dependencies only ----------------------------------------
FROM source AS prod-deps
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev

# ---- runtime -------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# Nothing runs a package manager at run time: drop them from the image.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg
WORKDIR /app
# Files stay owned by root and read-only for the app user; Kubernetes additionally
# mounts the root filesystem read-only with an emptyDir on /tmp (tsx's transform cache).
COPY --from=prod-deps /app ./
COPY --from=build /app/subgraphs/reservation/src/generated ./subgraphs/reservation/src/generated
COPY --from=build /app/subgraphs/payment/src/generated ./subgraphs/payment/src/generated
COPY --from=build /app/subgraphs/rental/src/generated ./subgraphs/rental/src/generated
# Numeric so that Kubernetes' runAsNonRoot can verify it (uid 1000 is `node` in the base image).
USER 1000:1000
EXPOSE 4000 4001 4002 4003
# Exec form: node is PID 1 and receives SIGTERM itself (the services drain on it).
ENTRYPOINT ["node", "--import", "tsx"]
CMD ["router/src/main.ts"]
