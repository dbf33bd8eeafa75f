#!/usr/bin/env bash
# scripts/test.sh — the single command that runs Alinea's whole test suite.
#
# Usage:
#   scripts/test.sh                        # gofmt + go vet + go test ./...
#   scripts/test.sh -run Foo ./store/...   # args replace the default ./... package list
#   scripts/test.sh -run Foo               # no package pattern given → ./... is appended
#
# What it does:
#   1. Installs PostgreSQL server binaries via apt if they are missing.
#   2. Unless ALINEA_TEST_POSTGRES is already set, starts a throwaway cluster on
#      127.0.0.1:<free port>, creates database alinea_test and exports
#      ALINEA_TEST_POSTGRES. The cluster is stopped and deleted on exit.
#   3. Exports ALINEA_TEST_REQUIRE_POSTGRES=1 (tests must fail, not skip, without Postgres).
#   4. If scripts/needs-chromium exists, installs chromium and exports ALINEA_TEST_CHROMIUM.
#   5. Runs gofmt -l, go vet ./..., go test -count=1 -timeout 30m.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

MODULE_PATH="github.com/alinea-crm/alinea"
PG_DB="alinea_test"
PG_USER="postgres"

section() { printf '\n==== %s ====\n' "$*"; }
die() { printf '\nERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

IS_ROOT=0
[[ "$(id -u)" == "0" ]] && IS_ROOT=1

# apt_install PKG... — install Debian packages (sudo only if not root and available).
apt_install() {
	local sudo=()
	if [[ "$IS_ROOT" != 1 ]]; then
		if command -v sudo >/dev/null 2>&1; then
			sudo=(sudo)
		else
			die "need to install '$*' but not running as root and sudo is not available"
		fi
	fi
	command -v apt-get >/dev/null 2>&1 || die "need to install '$*' but apt-get is not available"
	echo "Installing Debian packages: $*"
	if ! "${sudo[@]}" apt-get update; then
		die "apt-get update failed; cannot install: $*"
	fi
	if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@"; then
		die "apt-get install failed for: $*"
	fi
}

# Newest PostgreSQL server bin dir, e.g. /usr/lib/postgresql/15/bin (empty if none).
find_pg_bin() {
	local d best=""
	for d in $(printf "%s\n" /usr/lib/postgresql/*/bin | sort -V); do
		[[ -x "$d/postgres" && -x "$d/initdb" && -x "$d/pg_ctl" ]] && best="$d"
	done
	printf '%s' "$best"
}

# as_pg CMD... — run a command as the cluster owner. initdb/postgres refuse to
# run as root, so when we are root the cluster is owned by the 'postgres' user.
as_pg() {
	if [[ "$IS_ROOT" != 1 ]]; then
		"$@"
	elif command -v runuser >/dev/null 2>&1; then
		runuser -u postgres -- "$@"
	else
		su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
	fi
}

# port_in_use PORT — true if something listens on 127.0.0.1:PORT.
port_in_use() {
	local port="$1"
	if command -v ss >/dev/null 2>&1; then
		ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && return 0
	fi
	# Fallback / double check: try to connect.
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
	return 1
}

# ---------------------------------------------------------------------------
# Throwaway PostgreSQL cluster
# ---------------------------------------------------------------------------

PG_BIN=""
PG_DIR=""      # temp dir holding data/, the socket and the log
PG_STARTED=0

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ -n "$PG_DIR" ]]; then
		if [[ "$PG_STARTED" == 1 ]]; then
			section "Stopping PostgreSQL"
			(cd "$PG_DIR" && as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop >/dev/null 2>&1) ||
				(cd "$PG_DIR" && as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w -t 30 stop >/dev/null 2>&1) ||
				echo "warning: could not stop PostgreSQL cleanly" >&2
		fi
		rm -rf -- "$PG_DIR"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ensure_postgres_installed() {
	PG_BIN="$(find_pg_bin)"
	if [[ -z "$PG_BIN" ]]; then
		section "Installing PostgreSQL"
		apt_install postgresql
		PG_BIN="$(find_pg_bin)"
		[[ -n "$PG_BIN" ]] || die "PostgreSQL was installed but no /usr/lib/postgresql/*/bin/postgres was found"
	fi
	echo "PostgreSQL binaries: $PG_BIN ($("$PG_BIN/postgres" --version))"
}

# reap_stale_clusters — stop and delete clusters left behind by earlier runs
# that were killed without running their EXIT trap (e.g. SIGKILL).
reap_stale_clusters() {
	local d owner
	for d in "${TMPDIR:-/tmp}"/alinea-pg-* /tmp/alinea-pg-*; do
		[[ -f "$d/owner.pid" ]] || continue
		owner="$(cat "$d/owner.pid" 2>/dev/null || true)"
		[[ -n "$owner" && -d "/proc/$owner" ]] && continue # its script is still running
		echo "Removing stale cluster $d"
		if [[ -f "$d/data/postmaster.pid" ]]; then
			(cd "$d" && as_pg "$PG_BIN/pg_ctl" -D "$d/data" -m immediate -w -t 30 stop >/dev/null 2>&1) || true
		fi
		rm -rf -- "$d" 2>/dev/null || true
	done
}

# make_pg_dir — create the temp dir, owned by the cluster owner.
make_pg_dir() {
	local base
	for base in "${TMPDIR:-/tmp}" /tmp; do
		PG_DIR="$(mktemp -d "${base%/}/alinea-pg-XXXXXX")" || { PG_DIR=""; continue; }
		echo "$$" >"$PG_DIR/owner.pid"
		if [[ "$IS_ROOT" == 1 ]]; then
			id postgres >/dev/null 2>&1 || die "running as root but OS user 'postgres' does not exist (is the postgresql package installed?)"
			chown postgres: "$PG_DIR"
			chmod 700 "$PG_DIR"
			# The postgres user must be able to reach the directory (e.g. TMPDIR under /root is not).
			if ! (cd / && as_pg test -w "$PG_DIR"); then
				rm -rf -- "$PG_DIR"; PG_DIR=""; continue
			fi
		fi
		return 0
	done
	die "could not create a temp directory for PostgreSQL that the cluster owner can write to"
}

start_postgres() {
	section "Starting throwaway PostgreSQL cluster"
	reap_stale_clusters
	make_pg_dir
	echo "Cluster directory: $PG_DIR"

	local locale=C
	if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then locale=C.UTF-8; fi

	if ! (cd "$PG_DIR" && as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U "$PG_USER" \
		--auth=trust --encoding=UTF8 --locale="$locale" >"$PG_DIR/initdb.log" 2>&1); then
		cat "$PG_DIR/initdb.log" >&2 || true
		die "initdb failed"
	fi

	local port started=0
	for port in $(seq 54329 54429); do
		port_in_use "$port" && continue
		# Settings are passed on the command line; durability settings stay at defaults.
		if (cd "$PG_DIR" && as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
			-o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='' -c max_connections=200 -c shared_buffers=256MB" \
			start >"$PG_DIR/pg_ctl.log" 2>&1); then
			PG_STARTED=1
			started=1
			break
		fi
		# Lost a race for the port? Try the next one; anything else is fatal.
		if grep -qiE 'could not bind|address already in use' "$PG_DIR/postgres.log" 2>/dev/null; then
			echo "port $port busy, trying next"
			: >"$PG_DIR/postgres.log" 2>/dev/null || true
			continue
		fi
		cat "$PG_DIR/pg_ctl.log" "$PG_DIR/postgres.log" >&2 2>/dev/null || true
		die "PostgreSQL failed to start"
	done
	[[ "$started" == 1 ]] || die "no free port found for PostgreSQL in 54329-54429"

	local i
	for i in $(seq 1 60); do
		"$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U "$PG_USER" && break
		[[ "$i" == 60 ]] && { cat "$PG_DIR/postgres.log" >&2 || true; die "PostgreSQL did not accept connections"; }
		sleep 0.5
	done

	"$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U "$PG_USER" "$PG_DB" ||
		die "could not create database $PG_DB"

	export ALINEA_TEST_POSTGRES="postgres://$PG_USER@127.0.0.1:$port/$PG_DB?sslmode=disable"
	echo "PostgreSQL ready: $ALINEA_TEST_POSTGRES"
}

# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

section "Environment"
echo "Repo root: $ROOT"
go version

if [[ -n "${ALINEA_TEST_POSTGRES:-}" ]]; then
	section "PostgreSQL"
	echo "Using caller-provided ALINEA_TEST_POSTGRES (not starting a cluster)"
else
	section "PostgreSQL"
	ensure_postgres_installed
	start_postgres
fi
export ALINEA_TEST_REQUIRE_POSTGRES=1

if [[ -f "$ROOT/scripts/needs-chromium" ]]; then
	section "Chromium"
	if [[ ! -x /usr/bin/chromium ]]; then
		apt_install chromium chromium-driver
	fi
	[[ -x /usr/bin/chromium ]] || die "chromium was installed but /usr/bin/chromium is missing"
	export ALINEA_TEST_CHROMIUM=/usr/bin/chromium
	echo "Chromium: $ALINEA_TEST_CHROMIUM ($(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown'))"
fi

section "gofmt"
GOFMT="gofmt"
command -v gofmt >/dev/null 2>&1 || GOFMT="$(go env GOROOT)/bin/gofmt"
unformatted="$(find . \( -name .git -o -name node_modules -o -name testdata \) -prune -o \
	-type f -name '*.go' -print0 | xargs -0 -r "$GOFMT" -l)" || die "gofmt failed (syntax error?)"
if [[ -n "$unformatted" ]]; then
	echo "These files need gofmt (run: gofmt -w <file>):" >&2
	echo "$unformatted" >&2
	exit 1
fi
echo "ok"

section "go vet"
go vet ./...
echo "ok"

# Args replace the default ./... package list. If the args contain no package
# pattern (./x, ../x or the module path), ./... is still appended so that
# `scripts/test.sh -run Foo` runs Foo everywhere.
test_args=("$@")
has_pkg=0
for a in "$@"; do
	case "$a" in
		./* | ../* | "$MODULE_PATH" | "$MODULE_PATH"/*) has_pkg=1 ;;
	esac
done
[[ "$has_pkg" == 1 ]] || test_args+=(./...)

section "go test ${test_args[*]}"
go test -count=1 -timeout 30m "${test_args[@]}"

section "All tests passed"
