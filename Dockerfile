# expertline image: one image for the api (default CMD: node dist/server.js),
# the worker (node dist/worker.js), the Twilio sandbox for local stacks
# (node dist/sandbox.js; it refuses NODE_ENV=production, and an unset
# TWILIO_API_BASE_URL, i.e. real Twilio) and the one-shot tools
# (node dist/cli/migrate.js, node dist/cli/seed.js).
#
#   docker build -t expertline .
#
# No `# syntax=` line: the builder's own Dockerfile frontend is used, so a
# build needs no image registry beyond the base image.
#
# Node 22 by default: Node 20 is past its end of life, and production
# dependencies (content-disposition 3.1, cookie 2.0) declare Node >= 22.
ARG NODE_IMAGE=node:22-bookworm-slim

# ---------------------------------------------------------------- deps
# Only what runs, from the lockfile:
# --omit=dev       no compilers, test or lint tools;
# --omit=optional  npm otherwise keeps devDependencies that are also optional
#                  peers of a production dependency (@prisma/client pulls in the
#                  prisma CLI, @prisma/studio-core, typescript, react-dom,
#                  mysql2, pglite); it also drops msgpackr-extract, the native
#                  speed-up of BullMQ's msgpackr, which falls back to plain
#                  JavaScript;
# --ignore-scripts the project's postinstall generates the Prisma client with
#                  the prisma CLI, which is not here (the build stage does it),
#                  and no runtime dependency needs an install script.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund
# @prisma/client ships a query compiler (WebAssembly) for every database it
# supports; the generated client loads the PostgreSQL one only. The others are
# 53 MB of the 195 MB left.
RUN find node_modules/@prisma/client/runtime -name 'query_compiler_*' ! -name '*.postgresql.*' -delete

# ---------------------------------------------------------------- build
# Full install (prisma CLI, typescript), generate the Prisma client into
# src/generated/prisma, then compile src -> dist. The generated client is
# compiled into dist/generated/prisma, so the runtime needs no prisma CLI.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the postinstall would generate before prisma/ is copied in.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json prisma.config.ts ./
COPY prisma ./prisma
COPY scripts/generate-prisma.sh ./scripts/
RUN bash scripts/generate-prisma.sh
COPY src ./src
RUN npm run build

# ---------------------------------------------------------------- runtime
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app

# Everything the app runs is owned by root and read-only to it: the app user
# cannot rewrite its own code or node_modules.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# dist/db/migrate.js reads ../../prisma/migrations, i.e. /app/prisma/migrations.
COPY prisma/migrations ./prisma/migrations
# The Twilio contract subset, read by the sandbox (dist/sandbox.js).
COPY contracts ./contracts

# The one writable place: local state (the seed's .expertline/demo-shop.json,
# the sandbox's state). A named volume mounted here inherits this ownership
# when first created.
RUN mkdir -p /app/.expertline && chown node:node /app/.expertline

USER node
EXPOSE 3000

# Liveness of the api process (slim has no curl; Node has fetch).
# The worker and the sandbox do not serve /healthz on PORT: disable this
# healthcheck for them (see docker-compose.yml).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

CMD ["node", "dist/server.js"]
