# shellcheck shell=bash
# load_dotenv [FILE]: exports the variables of a .env file (default .env) that
# the environment does not already set. The environment wins, by the dotenv
# convention users rely on (`PORT=4000 npm run dev`) and the one the app itself
# follows (src/config.ts loadDotEnv, process.loadEnvFile). Sourcing .env in
# bash would do the opposite, and read its values by shell rules besides.
#
# Node's own parser (util.parseEnv, the one process.loadEnvFile uses) reads the
# file, so quotes, `#` comments and `export` prefixes mean exactly what they
# mean to the app. A variable set to the empty string counts as set. Names and
# values cross over NUL-separated: no value is ever evaluated by the shell.
load_dotenv() {
  local file=${1:-.env} name value
  [[ -f "$file" ]] || return 0
  while IFS= read -r -d '' name && IFS= read -r -d '' value; do
    export "$name=$value"
  done < <(node -e '
    const { readFileSync } = require("node:fs");
    const { parseEnv } = require("node:util");
    for (const [name, value] of Object.entries(parseEnv(readFileSync(process.argv[1], "utf8")))) {
      if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !(name in process.env)) process.stdout.write(`${name}\0${value}\0`);
    }
  ' "$file")
}
