# Sourced by test.sh (which .ci/run runs): starts a throwaway PostgreSQL cluster for the tests and
# exports SHOPAUTH_TEST_POSTGRES (a postgres:// URL) and SHOPAUTH_TEST_PG_CTL (a command that runs
# pg_ctl on that cluster, for the outage test). The cluster lives in a temporary folder, listens on
# a free loopback port with trust authentication, and is stopped and deleted when the calling
# shell exits (EXIT trap).
#
# Installs Debian's postgresql package when no PostgreSQL server is found and we are root with apt.
# initdb and postgres refuse to run as root, so as root they run as the postgres user.
#
# Returns non-zero when no cluster could be started; the caller decides whether that is fatal
# (in CI the PostgreSQL tests then fail rather than skip).

pg_test_cluster_bindir() {
	local d
	for d in ${PG_BINDIR:-} $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

pg_test_cluster_start() {
	local bindir
	if ! bindir=$(pg_test_cluster_bindir); then
		if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
			echo "pg-test-cluster: installing Debian's postgresql for the PostgreSQL tests" >&2
			DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
			# The package starts a default cluster as a service where it can; the tests do not use it.
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
		fi
		if ! bindir=$(pg_test_cluster_bindir); then
			echo "pg-test-cluster: no PostgreSQL server found (apt-get install postgresql)" >&2
			return 1
		fi
	fi

	local as=()
	if [ "$(id -u)" = 0 ]; then
		as=(runuser -u postgres --)
	fi
	local dir
	dir=$(mktemp -d "${TMPDIR:-/tmp}/shopauth-pg.XXXXXX")
	[ "$(id -u)" = 0 ] && chown postgres: "$dir"
	chmod 700 "$dir"

	# A free loopback port: ask the kernel for one, then hand it to postgres. Another process could
	# take it in between; then the start fails and we try again with another.
	local port attempt
	for attempt in 1 2 3 4 5; do
		port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
			echo $((20000 + RANDOM % 20000)))
		if [ ! -f "$dir/data/PG_VERSION" ]; then
			"${as[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
				"${as[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 || {
				echo "pg-test-cluster: initdb failed:" >&2
				cat "$dir/initdb.log" >&2
				rm -rf "$dir"
				return 1
			}
		fi
		# fsync off: a test cluster is thrown away, and the suite is several times faster without it.
		if "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
			-o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
			start >/dev/null; then
			break
		fi
		port=""
	done
	if [ -z "$port" ]; then
		echo "pg-test-cluster: postgres did not start:" >&2
		tail -n 20 "$dir/server.log" >&2
		rm -rf "$dir"
		return 1
	fi

	PG_TEST_CLUSTER_DIR=$dir
	PG_TEST_CLUSTER_STOP="${as[*]} $bindir/pg_ctl -D $dir/data -m immediate stop"
	trap 'pg_test_cluster_stop' EXIT
	export SHOPAUTH_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
	export SHOPAUTH_TEST_PG_CTL="${as[*]} $bindir/pg_ctl -D $dir/data -l $dir/server.log"
	echo "pg-test-cluster: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $dir)" >&2
}

pg_test_cluster_stop() {
	if [ -n "${PG_TEST_CLUSTER_DIR:-}" ]; then
		$PG_TEST_CLUSTER_STOP >/dev/null 2>&1 || true
		rm -rf "$PG_TEST_CLUSTER_DIR"
		PG_TEST_CLUSTER_DIR=""
	fi
}
