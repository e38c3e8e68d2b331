#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for tests.
#
#   bash scripts/pg.sh start   # start (or reuse) the cluster; idempotent
#   bash scripts/pg.sh stop    # fast stop and remove the data directory
#   bash scripts/pg.sh url     # print the test database URL
#   bash scripts/pg.sh status  # exit 0 when the cluster answers
#
# Settings: FRONTDESK_PG_PORT (default 54329), FRONTDESK_PG_DATA (default
# /tmp/frontdesk-pg; must be reachable by the postgres user, so not under
# /root). The tests create the database themselves; no createdb here.
# Durability is switched off: never point this at data you want to keep.
set -euo pipefail

PORT="${FRONTDESK_PG_PORT:-54329}"
PGDATA="${FRONTDESK_PG_DATA:-/tmp/frontdesk-pg}"
PGDATA="${PGDATA%/}"
MARKER=".frontdesk-throwaway"

die() { echo "pg.sh: $*" >&2; exit 1; }

[[ "$PORT" =~ ^[0-9]+$ ]] || die "FRONTDESK_PG_PORT must be a number, got '$PORT'"
[[ "$PGDATA" == /?* ]] || die "FRONTDESK_PG_DATA must be an absolute path other than /"

url() { echo "postgres://postgres@127.0.0.1:${PORT}/frontdesk_test"; }

find_pgbin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

ensure_installed() {
    PGBIN="$(find_pgbin)"
    if [[ -z "$PGBIN" ]]; then
        [[ "$(id -u)" == 0 ]] || die "PostgreSQL is not installed and we are not root"
        echo "pg.sh: installing PostgreSQL with apt-get..." >&2
        local log
        log="$(mktemp)"
        if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
                apt-get install -y -qq postgresql; } >"$log" 2>&1; then
            cat "$log" >&2
            rm -f "$log"
            die "apt-get install postgresql failed"
        fi
        rm -f "$log"
        PGBIN="$(find_pgbin)"
        [[ -n "$PGBIN" ]] || die "no /usr/lib/postgresql/*/bin after installing"
    fi
}

# Run a PostgreSQL binary as the postgres user (initdb refuses root).
as_pg() {
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# Does a server answer on our port, and is it the one using $PGDATA?
ready() {
    "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres || return 1
    local dir
    dir="$("$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -XAtqc \
        'show data_directory' 2>/dev/null)" || return 1
    [[ "$(realpath -m "$dir")" == "$(realpath -m "$PGDATA")" ]] || \
        die "port $PORT is used by another PostgreSQL (data directory $dir)"
}

# PID from postmaster.pid when that process still runs. PID 1 does not reap
# children here, so a dead postmaster may linger as a zombie: kill -0 and
# "pg_ctl status" would call it alive; /proc state tells the truth.
live_postmaster_pid() {
    local pid state
    [[ -f "$PGDATA/postmaster.pid" ]] || return 1
    pid="$(head -n1 "$PGDATA/postmaster.pid" 2>/dev/null)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" || return 1
    [[ -n "$state" && "$state" != Z && "$state" != X ]] || return 1
    echo "$pid"
}

wipe() {
    if [[ -e "$PGDATA" && -n "$(ls -A "$PGDATA" 2>/dev/null)" \
          && ! -e "$PGDATA/$MARKER" && ! -e "$PGDATA/PG_VERSION" ]]; then
        die "$PGDATA exists and is not a PostgreSQL data directory; not deleting it"
    fi
    rm -rf "$PGDATA"
}

wait_ready() {
    local i
    for ((i = 0; i < 100; i++)); do
        ready && return 0
        sleep 0.1
    done
    return 1
}

lock() { exec 9>"${PGDATA}.lock"; flock 9; }   # serialise concurrent start/stop

start() {
    ensure_installed
    lock

    if ready; then
        echo "pg.sh: reusing PostgreSQL on port $PORT ($PGDATA)" >&2
        return 0
    fi
    local pid
    if pid="$(live_postmaster_pid)"; then
        # Alive but not answering yet: maybe still starting up.
        if wait_ready; then
            echo "pg.sh: reusing PostgreSQL on port $PORT ($PGDATA)" >&2
            return 0
        fi
        echo "pg.sh: postmaster $pid on $PGDATA does not answer; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
    if [[ -e "$PGDATA" ]]; then
        echo "pg.sh: removing stale $PGDATA" >&2
        wipe
    fi

    mkdir -p "$PGDATA"
    chmod 0700 "$PGDATA"
    if [[ "$(id -u)" == 0 ]]; then chown postgres:postgres "$PGDATA"; fi
    as_pg "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C \
        >"$PGDATA.initdb.log" 2>&1 || { cat "$PGDATA.initdb.log" >&2; die "initdb failed"; }
    rm -f "$PGDATA.initdb.log"
    as_pg touch "$PGDATA/$MARKER"
    # 9>&-: the server must not inherit the lock, or it would hold it while it runs.
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 60 9>&- \
        -o "-p $PORT -c listen_addresses=127.0.0.1 -k $PGDATA -c fsync=off \
-c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null || { cat "$PGDATA/server.log" >&2; die "pg_ctl start failed"; }
    wait_ready || { cat "$PGDATA/server.log" >&2; die "PostgreSQL did not become ready"; }
    echo "pg.sh: PostgreSQL ready on port $PORT ($PGDATA)" >&2
}

stop() {
    PGBIN="$(find_pgbin)"
    lock
    if [[ -n "$PGBIN" ]] && live_postmaster_pid >/dev/null; then
        as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w -t 30 stop >/dev/null || {
            local pid
            pid="$(live_postmaster_pid)" && kill -KILL "$pid" 2>/dev/null || true
        }
    fi
    if [[ -e "$PGDATA" ]]; then
        wipe
    fi
    rm -f "${PGDATA}.initdb.log"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    url) url ;;
    status) PGBIN="$(find_pgbin)"; [[ -n "$PGBIN" ]] && ready ;;
    *) echo "usage: $0 {start|stop|url|status}" >&2; exit 2 ;;
esac
