#!/usr/bin/env bash
# `npm run dev`: everything a fresh machine needs, then the api + workers with
# reload. Installs packages, writes .env on first run, makes sure PostgreSQL
# and Redis answer (starting or installing them if needed), migrates, seeds a
# demo shop once, and starts.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install.sh

if [[ ! -f .env ]]; then
  admin_key="admin_$(node -e 'process.stdout.write(require("crypto").randomBytes(24).toString("base64url"))')"
  sed "s|^ADMIN_API_KEY=.*|ADMIN_API_KEY=${admin_key}|" .env.example > .env
  echo "[dev] wrote .env with a new ADMIN_API_KEY (edit it to change settings)"
fi
# .env fills in what the environment leaves unset: PORT=4000 npm run dev wins
# over .env's PORT. ensure-services, db:migrate and db:seed read DATABASE_URL
# and REDIS_URL from here too.
# shellcheck source=scripts/dotenv.sh
source scripts/dotenv.sh
load_dotenv .env

bash scripts/ensure-services.sh
npm run --silent db:migrate
npm run --silent db:seed
exec npx tsx watch --clear-screen=false src/dev.ts
