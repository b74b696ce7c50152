#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for Tutela's tests.
#
# Sourced (by scripts/test):
#     source scripts/lib/pg-cluster.sh
#     trap pg_cluster_stop EXIT
#     pg_cluster_start      # exports TUTELA_TEST_PG_URL
#
# Run on its own, it starts a cluster, runs one command with TUTELA_TEST_PG_URL set,
# then stops the cluster and removes its directory (also on failure or Ctrl-C):
#     scripts/lib/pg-cluster.sh run -- psql '$TUTELA_TEST_PG_URL'   # (variable expanded by a shell)
#     scripts/lib/pg-cluster.sh run -- bash -c 'psql "$TUTELA_TEST_PG_URL" -c "select 1"'
#
# The cluster lives in a fresh temporary directory (data, Unix socket, server log), listens
# on 127.0.0.1 only, on a port the OS reports free, with trust authentication for the
# superuser `tutela`. As root the server runs as the `postgres` OS user (PostgreSQL refuses
# to run as root); as anyone else it runs as that user.
#
# Settings (optional, environment):
#     TUTELA_PG_BINDIR      directory with initdb/pg_ctl/postgres (default: newest
#                           /usr/lib/postgresql/*/bin)
#     TUTELA_PG_TMPDIR      parent of the cluster directory (default: /tmp)
#     TUTELA_TEST_PG_KEEP=1 keep the cluster directory (server log, data) after stopping

# Filled in by pg_cluster_start.
PG_CLUSTER_DIR=""
PG_CLUSTER_BINDIR=""
PG_CLUSTER_PORT=""
PG_CLUSTER_OS_USER=""

_pg_log() { printf '[pg-cluster] %s\n' "$*" >&2; }

# The directory holding the newest installed server binaries, or nothing.
pg_cluster_find_bindir() {
    if [[ -n "${TUTELA_PG_BINDIR:-}" ]]; then
        [[ -x "$TUTELA_PG_BINDIR/initdb" ]] && printf '%s\n' "$TUTELA_PG_BINDIR"
        return 0
    fi
    local d best=""
    # sort -V so that 16 sorts after 9.6.
    while IFS= read -r d; do
        [[ -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/postgres" ]] && best="$d"
    done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V)
    [[ -n "$best" ]] && printf '%s\n' "$best"
    return 0
}

# A TCP port on 127.0.0.1 that the OS reports free right now (bind to port 0).
_pg_free_port() {
    local py
    for py in python3 /usr/bin/python3; do
        if command -v "$py" >/dev/null 2>&1 &&
            "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null; then
            return 0
        fi
    done
    if command -v perl >/dev/null 2>&1; then
        perl -MIO::Socket::INET -e '$s=IO::Socket::INET->new(Listen=>1,LocalAddr=>"127.0.0.1",LocalPort=>0) or die; print $s->sockport, "\n"' && return 0
    fi
    _pg_log "cannot pick a free port: neither python3 nor perl works"
    return 1
}

# Runs a command as the cluster's OS user, from a directory that user can read (initdb and
# postgres fail when they cannot resolve the current directory, e.g. root's home).
_pg_as_owner() {
    if [[ "$PG_CLUSTER_OS_USER" == "$(id -un)" ]]; then
        (cd "$PG_CLUSTER_DIR" && "$@")
    else
        (cd "$PG_CLUSTER_DIR" && runuser -u "$PG_CLUSTER_OS_USER" -- "$@")
    fi
}

_pg_ensure_os_user() {
    if [[ $EUID -ne 0 ]]; then
        PG_CLUSTER_OS_USER="$(id -un)"
        return 0
    fi
    PG_CLUSTER_OS_USER=postgres
    if ! id -u postgres >/dev/null 2>&1; then
        _pg_log "creating system user 'postgres'"
        useradd --system --user-group --no-create-home --home-dir /var/lib/postgresql \
            --shell /usr/sbin/nologin postgres
    fi
    if ! command -v runuser >/dev/null 2>&1; then
        _pg_log "runuser (util-linux) is missing: cannot start PostgreSQL as the postgres user"
        return 1
    fi
}

# Starts the cluster and exports TUTELA_TEST_PG_URL. On failure it prints the server log,
# cleans up what it made and returns non-zero.
pg_cluster_start() {
    PG_CLUSTER_BINDIR="$(pg_cluster_find_bindir)"
    if [[ -z "$PG_CLUSTER_BINDIR" ]]; then
        _pg_log "no PostgreSQL server binaries (initdb, pg_ctl, postgres) under /usr/lib/postgresql/*/bin"
        return 1
    fi
    _pg_ensure_os_user || return 1

    local parent="${TUTELA_PG_TMPDIR:-/tmp}"
    PG_CLUSTER_DIR="$(mktemp -d "$parent/tutela-pg.XXXXXXXX")" || return 1
    if [[ "$PG_CLUSTER_DIR" == *[[:space:]\'\"\\]* ]]; then
        _pg_log "cluster directory '$PG_CLUSTER_DIR' contains characters pg_ctl cannot pass on; set TUTELA_PG_TMPDIR"
        pg_cluster_stop
        return 1
    fi
    chmod 0755 "$PG_CLUSTER_DIR"
    if [[ $EUID -eq 0 ]]; then
        chown "$PG_CLUSTER_OS_USER:" "$PG_CLUSTER_DIR"
    fi
    local data="$PG_CLUSTER_DIR/data" log="$PG_CLUSTER_DIR/postgres.log"

    _pg_log "initdb in $data ($("$PG_CLUSTER_BINDIR/postgres" --version), as OS user $PG_CLUSTER_OS_USER)"
    # Trust authentication: acceptable only because this cluster is throwaway and listens on
    # 127.0.0.1 and a socket in its own temporary directory, nowhere else.
    if ! _pg_as_owner "$PG_CLUSTER_BINDIR/initdb" -D "$data" -U tutela --auth=trust \
        --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$PG_CLUSTER_DIR/initdb.log" 2>&1; then
        _pg_log "initdb failed:"
        cat "$PG_CLUSTER_DIR/initdb.log" >&2
        pg_cluster_stop
        return 1
    fi

    local attempt started=""
    for attempt in 1 2 3 4 5; do
        PG_CLUSTER_PORT="$(_pg_free_port)" || { pg_cluster_stop; return 1; }
        rm -f "$log" # so that the checks below see this attempt's messages only
        # fsync, synchronous_commit and full_page_writes are off ONLY because this is a
        # throwaway test cluster whose data is deleted on exit: never do this with real data.
        if _pg_as_owner "$PG_CLUSTER_BINDIR/pg_ctl" start -w -t 60 -D "$data" -l "$log" \
            -o "-c listen_addresses=127.0.0.1 -p $PG_CLUSTER_PORT -k '$PG_CLUSTER_DIR' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
            >"$PG_CLUSTER_DIR/pg_ctl.log" 2>&1; then
            started=1
            break
        fi
        # Another process may have taken the port between our probe and the server's bind.
        if grep -q -e 'Address already in use' -e 'could not bind' "$log" 2>/dev/null; then
            _pg_log "port $PG_CLUSTER_PORT was taken meanwhile; trying another (attempt $attempt)"
            _pg_as_owner "$PG_CLUSTER_BINDIR/pg_ctl" stop -D "$data" -m immediate >/dev/null 2>&1 || true
            continue
        fi
        break
    done
    if [[ -z "$started" ]]; then
        _pg_log "PostgreSQL did not start:"
        cat "$PG_CLUSTER_DIR/pg_ctl.log" "$log" >&2 2>/dev/null || true
        pg_cluster_stop
        return 1
    fi

    # pg_ctl -w already waited for the server; confirm it accepts connections on the TCP
    # address the tests use, polling (not a fixed sleep), for up to 60 s.
    local isready="$PG_CLUSTER_BINDIR/pg_isready" deadline=$((SECONDS + 60))
    [[ -x "$isready" ]] || isready=pg_isready
    until "$isready" -q -h 127.0.0.1 -p "$PG_CLUSTER_PORT" -U tutela -d postgres; do
        if ((SECONDS >= deadline)); then
            _pg_log "PostgreSQL on 127.0.0.1:$PG_CLUSTER_PORT not ready after 60 s:"
            tail -n 50 "$log" >&2 || true
            pg_cluster_stop
            return 1
        fi
        sleep 0.2
    done

    export TUTELA_TEST_PG_URL="postgres://tutela@127.0.0.1:$PG_CLUSTER_PORT/postgres"
    _pg_log "ready: $TUTELA_TEST_PG_URL (directory $PG_CLUSTER_DIR)"
}

# True when PID is a live (not zombie) postgres process.
_pg_is_postgres_running() {
    local pid="$1" stat
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 1
    # /proc/PID/stat: "PID (COMM) STATE ..."; a zombie (Z) has already exited.
    [[ "$stat" == *"(postgres) "* && "${stat##*) }" != Z* ]]
}

# Stops the server (if running) and removes the cluster directory. Idempotent, safe to call
# from a trap, whatever state pg_cluster_start reached; never fails.
pg_cluster_stop() {
    local dir="$PG_CLUSTER_DIR"
    [[ -n "$dir" && -d "$dir" ]] || { PG_CLUSTER_DIR=""; return 0; }
    local data="$dir/data" pidfile="$dir/data/postmaster.pid" pid=""
    if [[ -f "$pidfile" ]]; then
        pid="$(head -n 1 "$pidfile" 2>/dev/null || true)"
        if [[ -n "$PG_CLUSTER_BINDIR" ]] &&
            { _pg_as_owner "$PG_CLUSTER_BINDIR/pg_ctl" stop -D "$data" -m fast -w -t 30 >/dev/null 2>&1 ||
                _pg_as_owner "$PG_CLUSTER_BINDIR/pg_ctl" stop -D "$data" -m immediate -w -t 10 >/dev/null 2>&1; }; then
            :
        elif _pg_is_postgres_running "$pid"; then
            # Last resort: the postmaster we started, by its own pid.
            _pg_log "postmaster $pid did not stop; killing it"
            kill -KILL "$pid" 2>/dev/null || true
            for _ in $(seq 1 50); do
                _pg_is_postgres_running "$pid" || break
                sleep 0.1
            done
        fi
    fi
    if [[ "${TUTELA_TEST_PG_KEEP:-}" == 1 ]]; then
        _pg_log "stopped; kept $dir (TUTELA_TEST_PG_KEEP=1)"
    else
        case "$dir" in
            */tutela-pg.*) rm -rf -- "$dir" || true ;;
            *) _pg_log "not removing unexpected directory '$dir'" ;;
        esac
        _pg_log "stopped and removed $dir"
    fi
    PG_CLUSTER_DIR=""
    return 0
}

# Prints the server log's last N (default 40) serious problems (FATAL, PANIC, crashed backends),
# for a failed test run. Plain ERRORs are left out: the tests provoke many on purpose
# (constraint violations), and the test output shows the ones that matter. So is the FATAL
# that every forced DROP DATABASE causes in the sessions it ends.
pg_cluster_log_problems() {
    local n="${1:-40}" lines
    [[ -n "$PG_CLUSTER_DIR" && -f "$PG_CLUSTER_DIR/postgres.log" ]] || return 0
    lines="$(grep -E '(FATAL|PANIC):|terminated by signal|was terminated by exception' "$PG_CLUSTER_DIR/postgres.log" |
        grep -v 'terminating connection due to administrator command' | tail -n "$n" || true)"
    if [[ -z "$lines" ]]; then
        _pg_log "the server logged no FATAL/PANIC or crash (whole log: rerun with TUTELA_TEST_PG_KEEP=1)"
    else
        _pg_log "the server's last FATAL/PANIC/crash lines (whole log: rerun with TUTELA_TEST_PG_KEEP=1):"
        printf '%s\n' "$lines" >&2
    fi
}

# Executed directly: `pg-cluster.sh run -- COMMAND [ARGS...]`.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    if [[ "${1:-}" != run ]]; then
        echo "usage: $0 run -- COMMAND [ARGS...]   (COMMAND sees TUTELA_TEST_PG_URL)" >&2
        exit 2
    fi
    shift
    [[ "${1:-}" == -- ]] && shift
    (($# > 0)) || { echo "usage: $0 run -- COMMAND [ARGS...]" >&2; exit 2; }
    trap pg_cluster_stop EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
    pg_cluster_start
    rc=0
    "$@" || rc=$?
    exit "$rc"
fi
