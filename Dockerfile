# droidworks: gateway + worker in one image (`gateway`, `worker` or `start`).
# NODE_IMAGE is any Debian-based image with Node 20+ and npm; where no registry is reachable, build
# one with `bash scripts/build-base-image.sh` (debootstrap + this machine's Node) and pass it:
#   docker build --network host --build-arg NODE_IMAGE="$(bash scripts/build-base-image.sh)" -t droidworks/droidworks .
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev --ignore-scripts

FROM ${NODE_IMAGE}
# git for the workspace mirrors, redis-server for `start` without REDIS_URL (skipped when present).
RUN command -v git >/dev/null && command -v redis-server >/dev/null || { \
      apt-get update && apt-get install -y --no-install-recommends git ca-certificates redis-server \
      && rm -rf /var/lib/apt/lists/*; }
WORKDIR /app
ENV NODE_ENV=production DROIDWORKS_DATA_DIR=/var/lib/droidworks
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY workflows ./workflows
COPY infra/github-app-manifest.json ./infra/github-app-manifest.json
COPY infra/docker-entrypoint.sh infra/healthcheck.mjs /usr/local/lib/droidworks/
# Starts as root only to join the Docker socket's group and own the data directory, then runs
# droidworks as `node` (uid 1000). See infra/docker-entrypoint.sh.
# 3000: the gateway; 9464: a worker's /metrics, /healthz, /readyz (DROIDWORKS_WORKER_METRICS_PORT)
EXPOSE 3000 9464
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "/usr/local/lib/droidworks/healthcheck.mjs"]
ENTRYPOINT ["/usr/local/lib/droidworks/docker-entrypoint.sh"]
CMD ["start"]
