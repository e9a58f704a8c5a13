# Sourced by .ci/run: installs PostgreSQL from Debian's packages when it is
# missing, starts a throwaway server on 127.0.0.1:55432 and exports
# TMCI_TEST_PG, the connection string the pg backend tests use. The port is
# the first free one from 55432 on.
pgbin=""
for d in /usr/lib/postgresql/*/bin; do
	[ -x "$d/initdb" ] && pgbin="$d"
done
if [ -z "$pgbin" ]; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && pgbin="$d"
	done
fi
id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
pgdata="$(mktemp -d /tmp/tmci-pg.XXXXXX)"
chown postgres "$pgdata"
runuser -u postgres -- "$pgbin/initdb" -D "$pgdata" -A trust -U postgres >/dev/null
pgport=""
for port in $(seq 55432 55499); do
	if runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdata" -l "$pgdata/log" -w \
		-o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$pgdata -c max_connections=200" \
		start >/dev/null 2>&1; then
		pgport=$port
		break
	fi
done
if [ -z "$pgport" ]; then
	echo "PostgreSQL did not start; its log:" >&2
	cat "$pgdata/log" >&2
	exit 1
fi
runuser -u postgres -- "$pgbin/createdb" -h 127.0.0.1 -p "$pgport" -U postgres tmci
export TMCI_TEST_PG="postgres://postgres@127.0.0.1:$pgport/tmci?sslmode=disable"
trap 'runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdata" -m immediate stop >/dev/null 2>&1 || true' EXIT
