# kcp-edge container image. Node 24 strips TypeScript types itself, so there is no build step: the image is
# the source plus production dependencies, run as an unprivileged user from a read-only tree.
ARG NODE_IMAGE=node:24-bookworm-slim

# Stage 1: production dependencies only, exactly as the lockfile says.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# Stage 2: the runtime. Files stay owned by root so the process (uid 1000, "node") cannot change its own code.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
USER 1000:1000
EXPOSE 8443
ENTRYPOINT ["node", "src/cli.ts"]
CMD ["serve", "--config", "/etc/kcp-edge/gateway.yaml"]
