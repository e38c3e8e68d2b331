#!/usr/bin/env bash
# The Frontdesk benchmark in one command (`make bench` runs this).
#
#   bash bench/run.sh                     # everything, about 6-8 minutes
#   bash bench/run.sh --only throughput,latency --reps 5 --seconds 8
#   bash bench/run.sh --only scale --users 1000000 --organisations 100000 --scale-on postgres
#   bash bench/run.sh --only firstload    # the admin app's sign-in page in Chromium, about a minute
#
# Starts the real server and the baselines on loopback, drives them with wrk
# and hey, counts instructions per request with valgrind (all three installed
# with apt when missing), runs the mail and scale parts on SQLite and on a
# throwaway PostgreSQL (scripts/pg.sh on port 54349, stopped at the end), loads
# the admin app's sign-in page in Chromium (/usr/bin/chromium, Playwright) and
# prints a table of medians and ratios. See BENCHMARKS.md.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=.venv/bin/python
die() { echo "bench: $*" >&2; exit 2; }

[[ -x "$PYTHON" ]] || die "$PYTHON not found; run 'make venv' first"

missing=()
for tool in wrk hey valgrind; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
    [[ "$(id -u)" == 0 ]] || die "install ${missing[*]} (apt-get install -y ${missing[*]})"
    echo "bench: installing ${missing[*]} with apt-get..." >&2
    log="$(mktemp)"
    if ! { timeout 300 apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
            timeout 300 apt-get install -y -qq "${missing[@]}"; } >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        die "apt-get install ${missing[*]} failed"
    fi
    rm -f "$log"
fi

# The whole run is bounded (longer when a large scale tree is asked for); bench.main
# stops its servers and PostgreSQL itself.
bound=1200
[[ " $* " == *" --users "* ]] && bound=5400
exec timeout --kill-after=30 "$bound" "$PYTHON" -m bench.main "$@"
