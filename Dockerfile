# syntax=docker/dockerfile:1
#
# The reflex image: a build stage that runs the same steps as CI (npm ci, npm run build)
# and a final stage with production dependencies and the compiled code only.
#
# Base: the current Node.js LTS line on Debian slim. Node.js 26 became the Active LTS line in
# October 2026 (24 moved to Maintenance LTS then); override with --build-arg NODE_VERSION=24-slim
# to stay on the previous line. Pin a digest (node:26-slim@sha256:…) in release pipelines.
#
# Runtime contract (see docs/deploy.md):
# - runs as the numeric non-root user 65532:65532 (no passwd entry needed);
# - writes nothing outside /tmp, so it runs with a read-only root filesystem; mount an
#   emptyDir at /tmp (the Helm chart does);
# - ENTRYPOINT is the reflex command, CMD its default subcommand (`run`).
ARG NODE_VERSION=26-slim

FROM node:${NODE_VERSION} AS build
WORKDIR /src
ENV CI=true
# Dependencies first, so this layer is reused while only sources change. Scripts run later:
# `prepare` (the build) needs the sources.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
RUN npm run build

FROM node:${NODE_VERSION} AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="reflex" \
      org.opencontainers.image.description="Declarative automation daemon for Kubernetes: YAML rules bound to watched resources, JSONata conditions and actions." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/kube-reflex/reflex" \
      org.opencontainers.image.documentation="https://github.com/kube-reflex/reflex/blob/main/docs/deploy.md" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="docker.io/library/node:${NODE_VERSION}"
WORKDIR /app
# NODE_ENV=production for the libraries that read it; HOME and TMPDIR point at the only
# writable place under a read-only root filesystem; npm's cache is never used at run time.
ENV NODE_ENV=production \
    HOME=/tmp \
    TMPDIR=/tmp \
    npm_config_cache=/tmp/.npm \
    npm_config_update_notifier=false
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && rm -rf /tmp/.npm /root/.npm
COPY bin ./bin
COPY config ./config
COPY rules ./rules
COPY --from=build /src/dist/src ./dist/src
# Files stay owned by root and read-only for the runtime user.
USER 65532:65532
# /metrics and /traces (metrics.address), /healthz and /readyz (health.address): config/reflex.yaml.
EXPOSE 9090 8081
ENTRYPOINT ["node", "bin/reflex.js"]
CMD ["run"]
