# shellcheck shell=bash
# Sourced by .ci/run: makes sure a RabbitMQ answers on 127.0.0.1:5672 for
# the notification tests (internal/notify, internal/server) and exports
#
#   GLINT_TEST_RABBITMQ_URL     the broker the tests publish to
#   GLINT_TEST_RABBITMQ_SERVER  the rabbitmq-server script, with which
#                               the restart test starts a broker of its own
#                               on its own ports
#   GLINT_TEST_OSLO_PYTHON      a python3 with Debian's oslo.messaging, whose
#                               notification listener reads what glint sends
#
# Installs Debian's rabbitmq-server when missing. Uses the broker already
# answering on 5672 if there is one; otherwise starts a throwaway one
# (its own node name and directory, loopback only), stopped by
# glint_ci_rabbitmq_stop. No trap is set here.

GLINT_CI_RABBITMQ_PGID=""
GLINT_CI_RABBITMQ_DIR=""

glint_ci_rabbitmq_answers() {
	(exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null
}

glint_ci_rabbitmq_stop() {
	if [[ -n "$GLINT_CI_RABBITMQ_PGID" ]]; then
		kill -TERM -- "-$GLINT_CI_RABBITMQ_PGID" 2>/dev/null || true
		for _ in $(seq 1 60); do
			kill -0 -- "-$GLINT_CI_RABBITMQ_PGID" 2>/dev/null || break
			sleep 0.5
		done
		kill -KILL -- "-$GLINT_CI_RABBITMQ_PGID" 2>/dev/null || true
		GLINT_CI_RABBITMQ_PGID=""
	fi
}

if [[ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]]; then
	apt_get update -qq
	# The package starts its own service where it can (port 5672): then
	# that one answers below.
	apt_get install -y -qq rabbitmq-server >/dev/null
fi
export GLINT_TEST_RABBITMQ_SERVER=/usr/lib/rabbitmq/bin/rabbitmq-server

if ! /usr/bin/python3 -c 'import oslo_messaging' 2>/dev/null; then
	apt_get update -qq
	apt_get install -y -qq python3-oslo.messaging >/dev/null
fi
export GLINT_TEST_OSLO_PYTHON=/usr/bin/python3

if ! glint_ci_rabbitmq_answers; then
	GLINT_CI_RABBITMQ_DIR="$(mktemp -d /tmp/glint-ci-rabbitmq.XXXXXX)"
	echo "[]." >"$GLINT_CI_RABBITMQ_DIR/plugins"
	: >"$GLINT_CI_RABBITMQ_DIR/env.conf"
	: >"$GLINT_CI_RABBITMQ_DIR/rabbitmq.conf"
	(
		cd "$GLINT_CI_RABBITMQ_DIR"
		export HOME="$GLINT_CI_RABBITMQ_DIR" RABBITMQ_NODENAME=glint-ci@localhost RABBITMQ_NODE_PORT=5672 \
			RABBITMQ_DIST_PORT=35672 RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
			RABBITMQ_MNESIA_BASE="$GLINT_CI_RABBITMQ_DIR/mnesia" RABBITMQ_LOG_BASE="$GLINT_CI_RABBITMQ_DIR/log" \
			RABBITMQ_ENABLED_PLUGINS_FILE="$GLINT_CI_RABBITMQ_DIR/plugins" \
			RABBITMQ_CONFIG_FILE="$GLINT_CI_RABBITMQ_DIR/rabbitmq" RABBITMQ_CONF_ENV_FILE="$GLINT_CI_RABBITMQ_DIR/env.conf"
		exec setsid "$GLINT_TEST_RABBITMQ_SERVER" >"$GLINT_CI_RABBITMQ_DIR/out.log" 2>&1
	) &
	GLINT_CI_RABBITMQ_PGID=$!
	for _ in $(seq 1 240); do
		glint_ci_rabbitmq_answers && break
		sleep 0.5
	done
	if ! glint_ci_rabbitmq_answers; then
		echo "rabbitmq.sh: the broker did not start:" >&2
		cat "$GLINT_CI_RABBITMQ_DIR/out.log" >&2 || true
		glint_ci_rabbitmq_stop
		return 1
	fi
fi
export GLINT_TEST_RABBITMQ_URL="amqp://guest:guest@127.0.0.1:5672/"
