# droidworks: gateway + worker in one image. Workers need the host's Docker socket (or DOCKER_HOST)
# to start sandboxes; mount it read-write only on worker hosts.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev

FROM node:22-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates redis-server \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production DROIDWORKS_DATA_DIR=/var/lib/droidworks
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY workflows ./workflows
COPY infra/github-app-manifest.json ./infra/github-app-manifest.json
USER node
# 3000: the gateway; 9464: a worker's /metrics, /healthz, /readyz (DROIDWORKS_WORKER_METRICS_PORT)
EXPOSE 3000 9464
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["start"]
