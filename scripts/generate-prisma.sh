#!/usr/bin/env bash
# Generates the Prisma client (src/generated/prisma, not in git) unless the one
# there was generated from the current schema by the installed Prisma. Runs
# after `npm ci` (postinstall) and before build, typecheck and lint, so a fresh
# clone compiles without a separate step; when the client is current it costs
# one small node process.
#
#   --if-available  exit 0 when the prisma CLI is not installed (the CLI is a
#                   devDependency: an `npm ci --omit=dev` has no use for it)
#
# "Current" is a stamp written next to the client: the prisma and
# @prisma/client versions and a hash of what `generate` reads. Not mtimes: an
# `npm ci` that upgrades Prisma leaves the schema older than the old client,
# and a checkout or copy can reorder mtimes either way.
#
# PRISMA_SCHEMA_ENGINE_BINARY=/bin/false: `generate` needs no schema engine, and
# without it the CLI tries to download one, which fails offline.
set -euo pipefail
cd "$(dirname "$0")/.."

client=src/generated/prisma/client.ts
stamp_file=src/generated/prisma/.generated-from

# What the client was generated from, in one line.
wanted=$(node -e '
  const { createHash } = require("node:crypto");
  const { existsSync, readFileSync } = require("node:fs");
  const version = (name) => {
    try { return JSON.parse(readFileSync(`node_modules/${name}/package.json`, "utf8")).version; } catch { return "none"; }
  };
  const inputs = createHash("sha256");
  for (const file of ["prisma/schema.prisma", "prisma.config.ts"]) {
    inputs.update(`${file}\0${existsSync(file) ? readFileSync(file, "utf8") : ""}\0`);
  }
  console.log(`prisma ${version("prisma")}, @prisma/client ${version("@prisma/client")}, inputs sha256 ${inputs.digest("hex")}`);
')

if [[ -f "$client" && -f "$stamp_file" && "$(<"$stamp_file")" == "$wanted" ]]; then exit 0; fi

if [[ ! -x node_modules/.bin/prisma ]]; then
  if [[ "${1:-}" == "--if-available" ]]; then
    echo "[prisma] the prisma CLI is not installed (production install?); not generating the client"
    exit 0
  fi
  echo "[prisma] the prisma CLI is not installed: run npm ci first" >&2
  exit 1
fi

echo "[prisma] generating the Prisma client into src/generated/prisma"
# A client generated only half-way must not look current.
rm -f "$stamp_file"
# Its chatter (config and schema loaded, tips) is shown only when it fails.
if ! output=$(PRISMA_SCHEMA_ENGINE_BINARY=/bin/false node_modules/.bin/prisma generate 2>&1); then
  printf '%s\n' "$output" >&2
  exit 1
fi
printf '%s\n' "$wanted" >"$stamp_file"
