#!/usr/bin/env bash
# Generates the Prisma client (src/generated/prisma, not in git) when it is
# missing or older than prisma/schema.prisma. Runs after `npm ci` (postinstall)
# and before build, typecheck and lint, so a fresh clone compiles without a
# separate step; when the client is current it costs nothing.
#
#   --if-available  exit 0 when the prisma CLI is not installed (the CLI is a
#                   devDependency: an `npm ci --omit=dev` has no use for it)
#
# PRISMA_SCHEMA_ENGINE_BINARY=/bin/false: `generate` needs no schema engine, and
# without it the CLI tries to download one, which fails offline.
set -euo pipefail
cd "$(dirname "$0")/.."

client=src/generated/prisma/client.ts
schema=prisma/schema.prisma

if [[ -f "$client" && ! "$schema" -nt "$client" ]]; then exit 0; fi

if [[ ! -x node_modules/.bin/prisma ]]; then
  if [[ "${1:-}" == "--if-available" ]]; then
    echo "[prisma] the prisma CLI is not installed (production install?); not generating the client"
    exit 0
  fi
  echo "[prisma] the prisma CLI is not installed: run npm ci first" >&2
  exit 1
fi

echo "[prisma] generating the Prisma client into src/generated/prisma"
# Its chatter (config and schema loaded, tips) is shown only when it fails.
if ! output=$(PRISMA_SCHEMA_ENGINE_BINARY=/bin/false node_modules/.bin/prisma generate 2>&1); then
  printf '%s\n' "$output" >&2
  exit 1
fi
# generate leaves files whose content did not change untouched: mark the client
# current so the next run does not generate again.
touch "$client"
