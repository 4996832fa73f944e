#!/usr/bin/env bash
# Installs npm packages when package-lock.json changed since the last install,
# and generates the Prisma client when the schema changed.
set -euo pipefail
cd "$(dirname "$0")/.."

node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error(`expertline needs Node 20.19 or newer (this is ${process.version})`); process.exit(1); }'

if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "[install] npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
# npm ci's postinstall generates it too; this covers a schema changed since.
bash scripts/generate-prisma.sh
