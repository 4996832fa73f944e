# syntax=docker/dockerfile:1
#
# expertline image: one image for the api (default CMD), the worker
# (node dist/worker.js) and the one-shot tools (node dist/cli/migrate.js,
# node dist/cli/seed.js). Build: docker build -t expertline .

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------- deps
# Production dependencies only, installed from the lockfile.
# --ignore-scripts: no runtime dependency needs its install script (npm 11
# skips them anyway; the image's npm 10 would otherwise run them).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# ---------------------------------------------------------------- build
# Full install (prisma CLI, typescript), generate the Prisma client into
# src/generated/prisma, then compile src -> dist (the generated client is
# compiled into dist/generated/prisma, so the runtime needs no prisma CLI).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json prisma.config.ts ./
COPY prisma ./prisma
RUN npm run db:generate
COPY src ./src
RUN npm run build

# ---------------------------------------------------------------- runtime
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app

COPY --chown=node:node package.json ./
COPY --chown=node:node --from=deps /app/node_modules ./node_modules
COPY --chown=node:node --from=build /app/dist ./dist
# dist/db/migrate.js reads ../../prisma/migrations, i.e. /app/prisma/migrations.
COPY --chown=node:node prisma/migrations ./prisma/migrations
# The Twilio contract subset, read by the sandbox (dist/dev.js) when it is used.
COPY --chown=node:node contracts ./contracts

# The seed writes .expertline/demo-shop.json relative to the working directory;
# a named volume mounted here inherits this ownership when first created.
RUN mkdir -p /app/.expertline && chown node:node /app/.expertline

USER node
EXPOSE 3000

# Liveness of the api process (slim has no curl; Node 20 has fetch).
# The worker serves no HTTP: disable this healthcheck for it (see compose).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

CMD ["node", "dist/server.js"]
