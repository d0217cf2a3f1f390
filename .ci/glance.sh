# shellcheck shell=bash
# Sourced by .ci/run: starts two throwaway Glance servers (Debian's
# glance-api 25.1, Zed) for the migration tests (internal/glancemigrate):
# one on MariaDB, one on SQLite, each with two file stores (multi-store:
# enabled_backends = fast:file, slow:file) and a paste pipeline that takes
# the caller from X-Project-Id / X-User-Id / X-Roles headers (no
# Keystone). Exports, for KIND in MYSQL and SQLITE:
#
#   GLINT_TEST_GLANCE_<KIND>_URL      http://127.0.0.1:<port>
#   GLINT_TEST_GLANCE_<KIND>_CONFIG   its glance-api.conf
#
# MariaDB: the server on 127.0.0.1:3306 if root (empty password) answers
# there, else Debian's mariadb-server started on a temp directory. Glance
# gets a database and a user of its own with a random password.
#
# Stop everything with glint_ci_glance_stop (no trap is set here, as in
# s3.sh). Safe under set -euo pipefail; on failure `source` returns
# non-zero with the failing server's log printed.

GLINT_CI_GLANCE_DIR=""
GLINT_CI_GLANCE_PIDS=""
GLINT_CI_MARIADB_PID=""
GLINT_CI_GLANCE_DB=""

glint_ci_glance_apt() {
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@"
}

# glint_ci_glance_install installs what is missing: glance-api, PyMySQL
# (Glance's MySQL driver), boto3 (its s3 driver), the MariaDB client.
glint_ci_glance_install() {
	local missing=""
	command -v glance-api >/dev/null 2>&1 || missing="$missing glance-api"
	dpkg-query -W -f='${Status}' python3-pymysql 2>/dev/null | grep -q 'ok installed' || missing="$missing python3-pymysql"
	# boto3: Glance's s3 driver, which the S3 adoption test runs in a
	# second glance-api (internal/glancemigrate TestMigrateAdoptsS3; the
	# rbd driver's python3-rbd comes with .ci/ceph.sh's ceph-common).
	dpkg-query -W -f='${Status}' python3-boto3 2>/dev/null | grep -q 'ok installed' || missing="$missing python3-boto3"
	command -v mariadb >/dev/null 2>&1 || missing="$missing mariadb-client"
	if [[ -n $missing ]]; then
		echo "glance.sh: installing$missing"
		glint_ci_glance_apt update -qq
		# shellcheck disable=SC2086
		glint_ci_glance_apt install -y -qq $missing >/dev/null
	fi
}

# glint_ci_glance_port prints a port nothing listens on (bash's /dev/tcp
# probe; the start retries on another port if it loses a race).
glint_ci_glance_port() {
	local port
	while :; do
		port=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return
		fi
	done
}

# glint_ci_mariadb_admin runs the MariaDB client as an administrator of
# the server Glance uses.
GLINT_CI_MARIADB_ADMIN=()
glint_ci_mariadb_admin() {
	"${GLINT_CI_MARIADB_ADMIN[@]}" "$@"
}

# glint_ci_mariadb_start uses the machine's MariaDB or starts one.
glint_ci_mariadb_start() {
	if mariadb -h 127.0.0.1 -P 3306 -u root --connect-timeout=3 -e 'SELECT 1' >/dev/null 2>&1; then
		GLINT_CI_MARIADB_ADMIN=(mariadb -h 127.0.0.1 -P 3306 -u root)
		GLINT_CI_MARIADB_PORT=3306
		return 0
	fi
	if ! command -v mariadbd >/dev/null 2>&1 && [[ ! -x /usr/sbin/mariadbd ]]; then
		echo "glance.sh: installing mariadb-server"
		glint_ci_glance_apt update -qq
		glint_ci_glance_apt install -y -qq mariadb-server >/dev/null
	fi
	local dir=$GLINT_CI_GLANCE_DIR/mariadb port waited
	mkdir -p "$dir"
	chown mysql:mysql "$dir" 2>/dev/null || true
	mariadb-install-db --user=mysql --datadir="$dir/data" --skip-test-db \
		--auth-root-authentication-method=socket >"$dir/install.log" 2>&1 || {
		cat "$dir/install.log"
		return 1
	}
	# 3306 may be taken by a server we cannot use; any free port will do.
	port=$(glint_ci_glance_port)
	/usr/sbin/mariadbd --user=mysql --datadir="$dir/data" --socket="$dir/mysqld.sock" \
		--pid-file="$dir/mysqld.pid" --port="$port" --bind-address=127.0.0.1 \
		--skip-log-bin --innodb-flush-log-at-trx-commit=0 --log-error="$dir/error.log" \
		</dev/null >/dev/null 2>&1 &
	GLINT_CI_MARIADB_PID=$!
	for waited in $(seq 300); do
		if mariadb --socket="$dir/mysqld.sock" -u root -e 'SELECT 1' >/dev/null 2>&1; then
			GLINT_CI_MARIADB_ADMIN=(mariadb --socket="$dir/mysqld.sock" -u root)
			GLINT_CI_MARIADB_PORT=$port
			echo "glance.sh: MariaDB (pid $GLINT_CI_MARIADB_PID) on 127.0.0.1:$port after $((waited / 10)).$((waited % 10)) s"
			return 0
		fi
		if ! kill -0 "$GLINT_CI_MARIADB_PID" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	echo "glance.sh: MariaDB did not start:" >&2
	cat "$dir/error.log" >&2 || true
	return 1
}

# glint_ci_glance_write KIND CONNECTION writes a Glance configuration
# under $GLINT_CI_GLANCE_DIR/KIND and prints its directory.
glint_ci_glance_write() {
	local kind=$1 connection=$2 port=$3 dir=$GLINT_CI_GLANCE_DIR/$1 sub
	for sub in fast slow staging tasks lock; do
		mkdir -p "$dir/$sub"
	done
	{
		cat /etc/glance/glance-api-paste.ini
		cat <<-'EOF'

			[pipeline:glance-api-glintci]
			pipeline = cors healthcheck http_proxy_to_wsgi versionnegotiation osprofiler context rootapp
		EOF
	} >"$dir/glance-api-paste.ini"
	cat >"$dir/glance-api.conf" <<-EOF
		[DEFAULT]
		bind_host = 127.0.0.1
		bind_port = $port
		workers = 1
		log_file = $dir/glance-api.log
		use_stderr = false
		enabled_backends = fast:file, slow:file
		show_image_direct_url = true
		show_multiple_locations = true
		enabled_import_methods = [glance-direct, web-download, copy-image]
		image_member_quota = 128

		[database]
		connection = $connection

		[glance_store]
		default_backend = fast

		[fast]
		filesystem_store_datadir = $dir/fast/

		[slow]
		filesystem_store_datadir = $dir/slow/

		[os_glance_staging_store]
		filesystem_store_datadir = $dir/staging/

		[os_glance_tasks_store]
		filesystem_store_datadir = $dir/tasks/

		[paste_deploy]
		flavor = glintci
		config_file = $dir/glance-api-paste.ini

		[oslo_concurrency]
		lock_path = $dir/lock

		[oslo_policy]
		enforce_new_defaults = false
	EOF
	chmod 600 "$dir/glance-api.conf"
}

# glint_ci_glance_answers succeeds if Glance answers its versions document.
glint_ci_glance_answers() {
	(
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf 'GET /versions HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 || true
		status=""
		read -r -t 5 status <&3 || true
		[[ $status == HTTP/1.*" 200"* ]]
	) 2>/dev/null
}

# glint_ci_glance_launch KIND CONNECTION writes KIND's configuration on
# a free port and starts its glance-api in the background.
glint_ci_glance_launch() {
	local kind=$1 connection=$2 port dir=$GLINT_CI_GLANCE_DIR/$1
	port=$(glint_ci_glance_port)
	glint_ci_glance_write "$kind" "$connection" "$port"
	glance-api --config-file "$dir/glance-api.conf" </dev/null >"$dir/stdout.log" 2>&1 &
	printf -v "GLINT_CI_GLANCE_PID_$kind" '%s' "$!"
	printf -v "GLINT_CI_GLANCE_PORT_$kind" '%s' "$port"
	GLINT_CI_GLANCE_PIDS="$GLINT_CI_GLANCE_PIDS $!"
}

# glint_ci_glance_await KIND waits up to 90 s for KIND's Glance and
# exports its variables; it fails if the server dies or never answers.
glint_ci_glance_await() {
	local kind=$1 waited pid port upper dir=$GLINT_CI_GLANCE_DIR/$1
	pid=GLINT_CI_GLANCE_PID_$kind
	pid=${!pid}
	port=GLINT_CI_GLANCE_PORT_$kind
	port=${!port}
	upper=${kind^^}
	for waited in $(seq 900); do
		if glint_ci_glance_answers "$port"; then
			export "GLINT_TEST_GLANCE_${upper}_URL=http://127.0.0.1:$port"
			export "GLINT_TEST_GLANCE_${upper}_CONFIG=$dir/glance-api.conf"
			echo "glance.sh: glance-api on $kind (pid $pid) at 127.0.0.1:$port after $((waited / 10)).$((waited % 10)) s"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	echo "glance.sh: glance-api ($kind) did not come up on port $port:"
	tail -n 30 "$dir/glance-api.log" "$dir/stdout.log" 2>/dev/null || true
	return 1
}

# glint_ci_glance_sync KIND: the schema, with glance-manage db_sync.
glint_ci_glance_sync() {
	local kind=$1 dir=$GLINT_CI_GLANCE_DIR/$1
	glance-manage --config-file "$dir/glance-api.conf" db_sync >"$dir/db_sync.log" 2>&1 || {
		echo "glance.sh: glance-manage db_sync ($kind) failed:" >&2
		cat "$dir/db_sync.log" >&2
		return 1
	}
}

# glint_ci_glance_start starts MariaDB if needed and both Glances.
glint_ci_glance_start() {
	local started=$SECONDS password db
	# A database of its own per run: other runs may share the server.
	db=glint_ci_glance_$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
	GLINT_CI_GLANCE_DB=$db
	GLINT_CI_GLANCE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/glint-glance.XXXXXX")
	chmod 755 "$GLINT_CI_GLANCE_DIR"
	export GLINT_CI_GLANCE_DIR
	glint_ci_mariadb_start || return 1
	password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	glint_ci_mariadb_admin <<-EOF || return 1
		CREATE DATABASE $db CHARACTER SET utf8mb4;
		CREATE OR REPLACE USER '$db'@'127.0.0.1' IDENTIFIED BY '$password';
		GRANT ALL ON $db.* TO '$db'@'127.0.0.1';
	EOF
	local -A conn=(
		[mysql]="mysql+pymysql://$db:$password@127.0.0.1:$GLINT_CI_MARIADB_PORT/$db?charset=utf8mb4"
		[sqlite]="sqlite:///$GLINT_CI_GLANCE_DIR/sqlite/glance.sqlite"
	)
	local kind sync_mysql sync_sqlite
	# Both schemas at once, then both servers at once: each takes seconds
	# of Python start-up, which two cores overlap.
	for kind in mysql sqlite; do
		glint_ci_glance_write "$kind" "${conn[$kind]}" 0
	done
	glint_ci_glance_sync mysql &
	sync_mysql=$!
	glint_ci_glance_sync sqlite &
	sync_sqlite=$!
	wait "$sync_mysql" || return 1
	wait "$sync_sqlite" || return 1
	for kind in mysql sqlite; do
		glint_ci_glance_launch "$kind" "${conn[$kind]}"
	done
	for kind in mysql sqlite; do
		# A port taken between the probe and the bind: one more try.
		glint_ci_glance_await "$kind" ||
			{ glint_ci_glance_launch "$kind" "${conn[$kind]}" && glint_ci_glance_await "$kind"; } ||
			return 1
	done
	echo "glance.sh: both Glances up in $((SECONDS - started)) s"
}

# glint_ci_glance_stop stops what glint_ci_glance_start started and
# removes its files (the machine's own MariaDB keeps running; Glance's
# database in it is dropped).
glint_ci_glance_stop() {
	local pid
	for pid in $GLINT_CI_GLANCE_PIDS; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	GLINT_CI_GLANCE_PIDS=""
	if [[ -n $GLINT_CI_MARIADB_PID ]]; then
		kill "$GLINT_CI_MARIADB_PID" 2>/dev/null || true
		wait "$GLINT_CI_MARIADB_PID" 2>/dev/null || true
		GLINT_CI_MARIADB_PID=""
	elif ((${#GLINT_CI_MARIADB_ADMIN[@]})); then
		glint_ci_mariadb_admin -e "DROP DATABASE IF EXISTS $GLINT_CI_GLANCE_DB; DROP USER IF EXISTS '$GLINT_CI_GLANCE_DB'@'127.0.0.1'" || true
	fi
	if [[ -n $GLINT_CI_GLANCE_DIR ]]; then
		rm -rf "$GLINT_CI_GLANCE_DIR"
	fi
	unset GLINT_TEST_GLANCE_MYSQL_URL GLINT_TEST_GLANCE_MYSQL_CONFIG
	unset GLINT_TEST_GLANCE_SQLITE_URL GLINT_TEST_GLANCE_SQLITE_CONFIG
}

glint_ci_glance_install
glint_ci_glance_start
