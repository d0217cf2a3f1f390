# shellcheck shell=bash
# Sourced by .ci/run: starts a throwaway one-node Ceph cluster from
# Debian's packages (one mon, one mgr, one OSD on memstore, all on
# 127.0.0.1) for internal/blob/rbd's tests, creates an RBD pool and a
# client allowed only that pool, and exports
#
#   GLINT_TEST_CEPH_CONF, GLINT_TEST_CEPH_KEYRING, GLINT_TEST_CEPH_USER,
#   GLINT_TEST_CEPH_POOL, GLINT_CI_CEPH_DIR
#
# Stop it with glint_ci_ceph_stop (no trap is set, so sourcing this cannot
# clobber one of .ci/run's). Safe under set -euo pipefail; on failure the
# `source` returns non-zero with the daemons' logs printed. Needs root
# (the daemons run as root, with their data under one temp directory).

GLINT_CI_CEPH_POOL=glint
GLINT_CI_CEPH_USER=glint

# glint_ci_ceph_install installs the daemons, the CLI and the C libraries
# go-ceph builds against (Debian 12: Ceph 16.2 pacific), when missing.
glint_ci_ceph_install() {
	local missing=""
	command -v ceph-mon >/dev/null 2>&1 || missing="$missing ceph-mon"
	command -v ceph-mgr >/dev/null 2>&1 || missing="$missing ceph-mgr"
	command -v ceph-osd >/dev/null 2>&1 || missing="$missing ceph-osd"
	command -v rbd >/dev/null 2>&1 || missing="$missing ceph-common"
	[[ -f /usr/include/rados/librados.h ]] || missing="$missing librados-dev"
	[[ -f /usr/include/rbd/librbd.h ]] || missing="$missing librbd-dev"
	command -v uuidgen >/dev/null 2>&1 || missing="$missing uuid-runtime"
	if [[ -n $missing ]]; then
		echo "ceph.sh: installing$missing"
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq $missing >/dev/null
	fi
	# The packages enable units of their own; nothing of ours uses them.
	systemctl disable --now ceph.target ceph-crash.service >/dev/null 2>&1 || true
}

# glint_ci_ceph_free succeeds if nothing listens on 127.0.0.1:$1.
glint_ci_ceph_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# glint_ci_ceph_conf writes the cluster's ceph.conf. Loopback only;
# cephx on (the daemons and the admin CLI have keys of their own, the
# tests get a client key for one pool); one replica; small memory.
glint_ci_ceph_conf() {
	local dir=$1 fsid=$2 port=$3
	cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$port
public addr = 127.0.0.1
public network = 127.0.0.1/32
ms bind msgr1 = false
ms bind port min = 30000
ms bind port max = 30999
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
run dir = $dir/run
pid file = $dir/run/\$name.pid
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
log to stderr = false
err to stderr = true
osd pool default size = 1
osd pool default min size = 1
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail crit = 0
mon data avail warn = 1
mon memory target = 268435456
rbd default features = 1

auth allow insecure global id reclaim = false

[client]
keyring = $dir/admin.keyring
# librbd's complaints (an image that already exists, ...) go to the
# log, not into the tests' output.
err to stderr = false

[mon]
mon data = $dir/mon/\$name
# Snapshots allocate ids through the mon, which batches its map updates
# every second by default: each snapshot created or removed took 1 s.
paxos propose interval = 0.01
paxos min wait = 0.01

[mgr]
mgr data = $dir/mgr/\$name
mgr initial modules =

[osd]
osd data = $dir/osd/\$name
osd objectstore = memstore
memstore device bytes = 4294967296
osd memory target = 939524096
osd op num shards = 1
osd op num threads per shard = 2
osd class load list = *
osd class default list = *
EOF
}

# glint_ci_ceph_start creates and starts the cluster in a new temp
# directory, waits until the pool takes writes, and exports the
# variables above. The mon's port is random; a start that collides is
# retried on another.
glint_ci_ceph_start() {
	local dir fsid port started ceph tries
	started=$(date +%s%N)
	dir=$(mktemp -d "${TMPDIR:-/tmp}/glint-ceph.XXXXXX")
	export GLINT_CI_CEPH_DIR=$dir
	mkdir -p "$dir/run" "$dir/log" "$dir/mon/mon.a" "$dir/mgr/mgr.x" "$dir/osd/osd.0"
	fsid=$(uuidgen)
	for tries in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 9000))
		glint_ci_ceph_free "$port" && break
	done
	glint_ci_ceph_conf "$dir" "$fsid" "$port"
	ceph="ceph --conf $dir/ceph.conf --connect-timeout 30"

	# Keys: the mon's, the admin CLI's (imported into the mon keyring so
	# the new mon knows it), then the monmap and the mon itself.
	ceph-authtool --create-keyring "$dir/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null || return 1
	ceph-authtool --create-keyring "$dir/admin.keyring" --gen-key -n client.admin \
		--cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null || return 1
	ceph-authtool "$dir/mon.keyring" --import-keyring "$dir/admin.keyring" >/dev/null || return 1
	monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$port]" "$dir/monmap" >/dev/null || return 1
	ceph-mon --conf "$dir/ceph.conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/mon.keyring" || return 1
	ceph-mon --conf "$dir/ceph.conf" -i a || return 1

	# The manager.
	$ceph auth get-or-create mgr.x mon 'allow profile mgr' osd 'allow *' >"$dir/mgr/mgr.x/keyring" || return 1
	ceph-mgr --conf "$dir/ceph.conf" -i x || return 1

	# One OSD on memstore: its data lives in the daemon's memory (4 GiB
	# at most), so mkfs is instant and nothing touches the disk.
	local osd_uuid
	osd_uuid=$(uuidgen)
	$ceph osd new "$osd_uuid" >/dev/null || return 1
	ceph-osd --conf "$dir/ceph.conf" -i 0 --no-mon-config --mkfs --mkkey --osd-uuid "$osd_uuid" || return 1
	$ceph auth add osd.0 osd 'allow *' mon 'allow profile osd' mgr 'allow profile osd' \
		-i "$dir/osd/osd.0/keyring" >/dev/null 2>&1 || return 1
	ceph-osd --conf "$dir/ceph.conf" -i 0 || return 1

	# The pool and the tests' client, which may use only that pool.
	$ceph osd pool create "$GLINT_CI_CEPH_POOL" 8 8 >/dev/null 2>&1 || return 1
	rbd --conf "$dir/ceph.conf" pool init "$GLINT_CI_CEPH_POOL" || return 1
	$ceph auth get-or-create "client.$GLINT_CI_CEPH_USER" mon 'profile rbd' \
		osd "profile rbd pool=$GLINT_CI_CEPH_POOL" mgr "profile rbd pool=$GLINT_CI_CEPH_POOL" \
		>"$dir/client.keyring" || return 1

	# Ready when the client can write to the pool (its PGs are active).
	if ! timeout 60 rados --conf "$dir/ceph.conf" --id "$GLINT_CI_CEPH_USER" --keyring "$dir/client.keyring" \
		-p "$GLINT_CI_CEPH_POOL" put glint-ci-probe "$dir/ceph.conf"; then
		return 1
	fi
	rados --conf "$dir/ceph.conf" --id "$GLINT_CI_CEPH_USER" --keyring "$dir/client.keyring" \
		-p "$GLINT_CI_CEPH_POOL" rm glint-ci-probe || return 1

	export GLINT_TEST_CEPH_CONF=$dir/ceph.conf
	export GLINT_TEST_CEPH_KEYRING=$dir/client.keyring
	export GLINT_TEST_CEPH_USER=$GLINT_CI_CEPH_USER
	export GLINT_TEST_CEPH_POOL=$GLINT_CI_CEPH_POOL
	echo "ceph.sh: cluster $fsid (mon on 127.0.0.1:$port, pool $GLINT_CI_CEPH_POOL) up after $((($(date +%s%N) - started) / 1000000)) ms, in $dir"
}

# glint_ci_ceph_stop stops the daemons started above and removes their
# data (all of it lives under GLINT_CI_CEPH_DIR).
glint_ci_ceph_stop() {
	local dir=${GLINT_CI_CEPH_DIR:-} pidfile pid waited
	[[ -n $dir && -d $dir ]] || return 0
	for pidfile in "$dir"/run/osd.0.pid "$dir"/run/mgr.x.pid "$dir"/run/mon.a.pid; do
		[[ -f $pidfile ]] || continue
		pid=$(<"$pidfile")
		kill "$pid" 2>/dev/null || continue
		for waited in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$pid" 2>/dev/null || true
	done
	rm -rf "$dir"
	unset GLINT_CI_CEPH_DIR GLINT_TEST_CEPH_CONF GLINT_TEST_CEPH_KEYRING GLINT_TEST_CEPH_USER GLINT_TEST_CEPH_POOL
}

# glint_ci_ceph_fail prints the daemons' logs and stops what started.
glint_ci_ceph_fail() {
	local f
	for f in "${GLINT_CI_CEPH_DIR:-/nonexistent}"/log/*.log; do
		[[ -f $f ]] || continue
		echo "=== $f (last 40 lines)"
		tail -n 40 "$f"
	done
	glint_ci_ceph_stop
	echo "ceph.sh: could not start the Ceph cluster" >&2
	return 1
}

glint_ci_ceph_install
glint_ci_ceph_start || glint_ci_ceph_fail
