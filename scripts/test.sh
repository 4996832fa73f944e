#!/usr/bin/env bash
# `npm test`: installs what is missing, makes sure PostgreSQL and Redis run,
# and runs every test against them. Extra arguments go to vitest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install.sh
# The end-to-end page tests (test/e2e) drive Debian's chromium.
bash scripts/ensure-chromium.sh
# Tests use their own database (created on first run) next to the dev one.
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgresql://expertline:expertline@127.0.0.1:5432/expertline_test}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
DATABASE_URL="$TEST_DATABASE_URL" REDIS_URL="$TEST_REDIS_URL" bash scripts/ensure-services.sh

report=$(mktemp)
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
# One plain closing line, whatever the reporter printed above.
# A file that fails outside any test (a hook, an import) counts as one failure.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const brokenFiles = r.testResults.filter((f) => f.status === "failed" && !f.assertionResults.some((t) => t.status === "failed")).length;
  const failed = r.numFailedTests + brokenFiles;
  console.log(`tests: ${r.numPassedTests} passed, ${failed} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' "$report" 2>/dev/null || true
rm -f "$report"
exit "$status"
