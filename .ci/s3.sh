# shellcheck shell=bash
# Sourced by .ci/run: starts a throwaway S3 server (versitygw over a temp
# directory) for internal/blob/s3's tests and exports
#
#   GLINT_TEST_S3_ENDPOINT, GLINT_TEST_S3_ACCESS_KEY, GLINT_TEST_S3_SECRET_KEY
#   GLINT_CI_VERSITYGW_PID, GLINT_CI_VERSITYGW_PIDFILE, GLINT_CI_VERSITYGW_DIR
#
# Stop it with glint_ci_s3_stop (no trap is set, so sourcing this cannot
# clobber one of .ci/run's). Safe under set -euo pipefail; on failure the
# `source` returns non-zero, with the server's log printed.

GLINT_CI_VERSITYGW_VERSION=v1.8.0
GLINT_CI_BIN=${GLINT_CI_BIN:-/root/.cache/glint/bin}

# glint_ci_s3_install builds versitygw once per machine: it takes minutes,
# so the binary is cached outside the work tree.
glint_ci_s3_install() {
	if [[ -x "$GLINT_CI_BIN/versitygw" ]]; then
		return 0
	fi
	echo "s3.sh: installing versitygw $GLINT_CI_VERSITYGW_VERSION into $GLINT_CI_BIN (takes a few minutes)"
	mkdir -p "$GLINT_CI_BIN"
	GOBIN="$GLINT_CI_BIN" go install "github.com/versity/versitygw/cmd/versitygw@$GLINT_CI_VERSITYGW_VERSION"
}

# glint_ci_s3_random prints 32 random hex digits.
glint_ci_s3_random() {
	if command -v openssl >/dev/null; then
		openssl rand -hex 16
	else
		od -An -N16 -tx1 /dev/urandom | tr -d ' \n'
		echo
	fi
}

# glint_ci_s3_answers succeeds if an HTTP server answers on 127.0.0.1:$1.
# Bash's /dev/tcp needs no curl; an S3 server answers GET / (with 403
# for an anonymous request, which is fine).
glint_ci_s3_answers() {
	# A subshell, so the probe's descriptor and silenced errors stay in it.
	(
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 || true
		status=""
		read -r -t 2 status <&3 || true
		[[ $status == HTTP/1.* ]]
	) 2>/dev/null
}

# glint_ci_s3_start starts versitygw on a free port, trying a few random
# ones: probing first and then binding can race with other processes, so
# a start that dies is retried on another port.
glint_ci_s3_start() {
	local dir port pid tries waited access secret
	dir=$(mktemp -d "${TMPDIR:-/tmp}/glint-s3.XXXXXX")
	mkdir -p "$dir/root"
	access=$(glint_ci_s3_random)
	secret=$(glint_ci_s3_random)
	for tries in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 40000))
		if glint_ci_s3_answers "$port"; then
			continue # taken
		fi
		ROOT_ACCESS_KEY=$access ROOT_SECRET_KEY=$secret \
			"$GLINT_CI_BIN/versitygw" --port "127.0.0.1:$port" posix "$dir/root" \
			</dev/null >"$dir/versitygw.log" 2>&1 &
		pid=$!
		# Up to 15 s: it listens in well under a second when idle.
		for waited in $(seq 150); do
			if glint_ci_s3_answers "$port"; then
				echo "$pid" >"$dir/versitygw.pid"
				export GLINT_CI_VERSITYGW_PID=$pid
				export GLINT_CI_VERSITYGW_PIDFILE=$dir/versitygw.pid
				export GLINT_CI_VERSITYGW_DIR=$dir
				export GLINT_TEST_S3_ENDPOINT=127.0.0.1:$port
				export GLINT_TEST_S3_ACCESS_KEY=$access
				export GLINT_TEST_S3_SECRET_KEY=$secret
				echo "s3.sh: versitygw (pid $pid) on 127.0.0.1:$port after $((waited / 10)).$((waited % 10)) s, data in $dir/root"
				return 0
			fi
			if ! kill -0 "$pid" 2>/dev/null; then
				break # exited, perhaps the port was taken after all
			fi
			sleep 0.1
		done
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		echo "s3.sh: versitygw did not come up on port $port (try $tries):"
		cat "$dir/versitygw.log" || true
	done
	rm -rf "$dir"
	echo "s3.sh: could not start versitygw" >&2
	return 1
}

# glint_ci_s3_stop stops the server started above and removes its data.
glint_ci_s3_stop() {
	local pid=${GLINT_CI_VERSITYGW_PID:-}
	if [[ -z $pid && -n ${GLINT_CI_VERSITYGW_PIDFILE:-} && -f $GLINT_CI_VERSITYGW_PIDFILE ]]; then
		pid=$(<"$GLINT_CI_VERSITYGW_PIDFILE")
	fi
	if [[ -n $pid ]]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	if [[ -n ${GLINT_CI_VERSITYGW_DIR:-} ]]; then
		rm -rf "$GLINT_CI_VERSITYGW_DIR"
	fi
	unset GLINT_CI_VERSITYGW_PID GLINT_CI_VERSITYGW_PIDFILE GLINT_CI_VERSITYGW_DIR
	unset GLINT_TEST_S3_ENDPOINT GLINT_TEST_S3_ACCESS_KEY GLINT_TEST_S3_SECRET_KEY
}

glint_ci_s3_install
glint_ci_s3_start
