#!/usr/bin/env bash
# Type-check server/ (mypy --strict, configured in pyproject.toml), run the
# whole test suite on every database backend, then the API suites (one
# folder per domain, the tenant-isolation property and the fuzzer among them:
# every security test) again through Strawberry's own engine.
#
#   bash scripts/test.sh                  # SQLite, PostgreSQL, then the stock engine on SQLite
#   bash scripts/test.sh -k invitations   # extra arguments go to pytest (every run)
#   FRONTDESK_TEST_BACKENDS=sqlite FRONTDESK_TEST_STOCK_BACKENDS= bash scripts/test.sh
#
# Settings:
#   FRONTDESK_TEST_BACKENDS   backends to run, in order (default "sqlite postgres")
#   FRONTDESK_TEST_STOCK_BACKENDS   backends for the API suite through the stock
#                             engine, FRONTDESK_GRAPHQL_ENGINE=stock (default "sqlite";
#                             empty skips it; "sqlite postgres" for both)
#   FRONTDESK_BROWSER_TESTS   "0" skips installing Chromium for tests/browser
#   FRONTDESK_PG_PORT, FRONTDESK_PG_DATA   passed on to scripts/pg.sh
#
# PostgreSQL is a throwaway cluster from scripts/pg.sh. It is stopped at the
# end only when this script started it; a cluster that was already running
# is reused and left running.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTEST=.venv/bin/pytest
MYPY=.venv/bin/mypy
BACKENDS="${FRONTDESK_TEST_BACKENDS:-sqlite postgres}"
STOCK_BACKENDS="${FRONTDESK_TEST_STOCK_BACKENDS-sqlite}"
STARTED_PG=0

die() { echo "test.sh: $*" >&2; exit 2; }

header() {
    printf '\n==================== Frontdesk tests: %s ====================\n' "$1"
}

# Chromium for the browser tests (Playwright drives Debian's build).
ensure_chromium() {
    [[ -x /usr/bin/chromium ]] && return 0
    [[ "$(id -u)" == 0 ]] || die "/usr/bin/chromium is missing; install it with: apt-get install -y chromium"
    echo "test.sh: installing Chromium with apt-get..." >&2
    local log
    log="$(mktemp)"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq chromium; } >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        die "apt-get install chromium failed"
    fi
    rm -f "$log"
    [[ -x /usr/bin/chromium ]] || die "no /usr/bin/chromium after installing"
}

# Node and the npm packages of the tests, each folder pinned by its lockfile:
# graphql-http for its audit of the server (tests/core/test_graphql_over_http.py),
# GraphQL Code Generator and TypeScript for the typed client example
# (examples/typescript, tests/test_typescript_example.py).
# `npm ci` again only when a lockfile changed.
NODE_PACKAGE_DIRS=(tests/core/graphql_http_audit examples/typescript tests/oidc/rp)
ensure_node_packages() {
    local dir
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        [[ "$(id -u)" == 0 ]] || die "node and npm are missing; install them with: apt-get install -y nodejs npm"
        echo "test.sh: installing Node.js with apt-get..." >&2
        local log
        log="$(mktemp)"
        if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
                apt-get install -y -qq nodejs npm; } >"$log" 2>&1; then
            cat "$log" >&2
            rm -f "$log"
            die "apt-get install nodejs npm failed"
        fi
        rm -f "$log"
    fi
    for dir in "${NODE_PACKAGE_DIRS[@]}"; do
        if [[ ! -f "$dir/node_modules/.package-lock.json" \
                || "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]]; then
            (cd "$dir" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error) || die "npm ci in $dir failed"
        fi
    done
}

cleanup() {
    if [[ "$STARTED_PG" == 1 ]]; then
        echo "test.sh: stopping PostgreSQL" >&2
        bash scripts/pg.sh stop || echo "test.sh: could not stop PostgreSQL" >&2
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_postgres() {
    if bash scripts/pg.sh status >/dev/null 2>&1; then
        echo "test.sh: reusing the running PostgreSQL; it stays up afterwards" >&2
    else
        STARTED_PG=1   # set first: a half-started cluster is cleaned up too
    fi
    bash scripts/pg.sh start
}

# Validate everything before the first (slow) run.
[[ -x "$PYTEST" ]] || die "$PYTEST not found; run 'make venv' first"
[[ -x "$MYPY" ]] || die "$MYPY not found; run 'make venv' first"
read -r -a backends <<<"$BACKENDS"
((${#backends[@]} > 0)) || die "FRONTDESK_TEST_BACKENDS is empty"
read -r -a stock_backends <<<"$STOCK_BACKENDS"
for backend in "${backends[@]}" "${stock_backends[@]}"; do
    case "$backend" in
        sqlite | postgres) ;;
        *) die "unknown backend '$backend' in FRONTDESK_TEST_BACKENDS or FRONTDESK_TEST_STOCK_BACKENDS (use sqlite and/or postgres)" ;;
    esac
done

# Types first: a few seconds (incremental, .mypy_cache), and a type error fails the run.
header "mypy"
started=$SECONDS
if ! "$MYPY"; then
    echo "test.sh: FAILED: mypy found type errors (the suite did not run)"
    exit 1
fi
echo "test.sh: mypy passed ($((SECONDS - started))s)"

if [[ "${FRONTDESK_BROWSER_TESTS:-1}" != "0" && -d tests/browser ]]; then
    ensure_chromium
fi
ensure_node_packages

# run LABEL BACKEND ENGINE PYTEST-ARGS...
run() {
    local label="$1" backend="$2" engine="$3"
    shift 3
    header "$label"
    local started=$SECONDS rc=0
    case "$backend" in
        sqlite)
            env -u FRONTDESK_TEST_DATABASE_URL FRONTDESK_GRAPHQL_ENGINE="$engine" \
                "$PYTEST" -q "$@" || rc=$?
            ;;
        postgres)
            start_postgres
            FRONTDESK_TEST_DATABASE_URL="$(bash scripts/pg.sh url)" FRONTDESK_GRAPHQL_ENGINE="$engine" \
                "$PYTEST" -q "$@" || rc=$?
            ;;
    esac
    local elapsed=$((SECONDS - started))
    if ((rc == 0)); then
        summary+=("$label passed (${elapsed}s)")
    else
        summary+=("$label FAILED (pytest exit $rc, ${elapsed}s)")
        failed=1
    fi
}

# The suites that go through GraphQL: one folder per domain of server/.
API_SUITES=(tests/core tests/auth tests/members tests/invitations tests/api_tokens
    tests/audit tests/branding tests/contacts tests/impersonation tests/organisations tests/tenancy
    tests/tickets tests/telephony tests/webhooks tests/fuzz)

summary=()
failed=0
for backend in "${backends[@]}"; do
    run "$backend" "$backend" fast "$@"
done
# The API suite again through Strawberry's Schema.execute: the limits, masking
# and metrics are the schema's (server/core/policy.py), whichever engine runs.
for backend in "${stock_backends[@]}"; do
    run "$backend, stock engine, the API suites" "$backend" stock "${API_SUITES[@]}" "$@"
done

joined="$(printf '%s; ' "${summary[@]}")"
joined="${joined%; }"
printf '\n'
if ((failed)); then
    echo "test.sh: FAILED: $joined"
    exit 1
fi
echo "test.sh: all passed: $joined"
