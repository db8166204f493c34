#!/usr/bin/env bash
# Two routers on one link, in network namespaces: router A runs a cross-built vrrpd under
# qemu-user, router B the native build. A (priority 200) must become master and own the address;
# after a graceful stop of A, B must take over.
#
#   cross/qemu-failover.sh TARGET CROSS_BINARY NATIVE_BINARY
#
# Needs root, iproute2 and qemu-user-static. Namespaces are named $NS_PREFIX-a/-b (default
# vrrpd-qf); addresses are in 10.99.77.0/24. Everything it made is removed on exit. ~10 s.
# VERBOSE=1 prints both routers' logs at the end (they are always printed on failure).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=cross/targets.sh
. "$here/targets.sh"

[ $# -eq 3 ] || { sed -n '2,9s/^# \{0,1\}//p' "$0" >&2; exit 2; }
triple=$(vrrpd_triple "$1") || { echo "qemu-failover.sh: unknown target $1" >&2; exit 2; }
cross_bin=$(realpath "$2")
native_bin=$(realpath "$3")
qemu=$(vrrpd_qemu "$triple")

prefix=${NS_PREFIX:-vrrpd-qf}
ns_a=$prefix-a
ns_b=$prefix-b
vip=10.99.77.100
work=$(mktemp -d)
pid_a='' pid_b=''

cleanup() {
	for p in $pid_a $pid_b; do
		kill -KILL "$p" 2>/dev/null || true
	done
	ip netns del "$ns_a" 2>/dev/null || true
	ip netns del "$ns_b" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

show_logs() {
	for r in a b; do
		echo "---- router $r log" >&2
		cat "$work/$r.log" >&2 || true
	done
}
fail() {
	echo "qemu-failover.sh: FAIL: $*" >&2
	show_logs
	exit 1
}

# wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND every 0.1 s until it succeeds.
wait_for() {
	local limit=$(($1 * 10)) what=$2 i=0
	shift 2
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -le "$limit" ] || fail "no $what after ${limit}00 ms"
		sleep 0.1
	done
}
logged() { grep -qF -- "$2" "$work/$1.log"; }
has_vip() { ip -n "$1" -4 addr show dev lan0 | grep -qF " $vip/"; }

ip netns add "$ns_a"
ip netns add "$ns_b"
ip link add lan0 netns "$ns_a" type veth peer name lan0 netns "$ns_b"
for n in a b; do
	ns=$prefix-$n
	ip -n "$ns" link set lo up
	ip -n "$ns" link set lan0 up
	case $n in a) addr=10.99.77.1 prio=200 ;; b) addr=10.99.77.2 prio=100 ;; esac
	ip -n "$ns" addr add "$addr/24" dev lan0
	cat >"$work/$n.conf" <<EOF
global_defs {
    router_id router-$n
}
vrrp_instance VI_1 {
    state BACKUP
    interface lan0
    virtual_router_id 77
    priority $prio
    advert_int 1
    virtual_ipaddress {
        $vip/24 dev lan0
    }
}
EOF
done

# ip netns exec runs the command in place, so $! is the daemon (or qemu running it).
# shellcheck disable=SC2086 # no qemu (x86_64) must expand to nothing
ip netns exec "$ns_a" $qemu "$cross_bin" -n -l -f "$work/a.conf" -p "$work/a.pid" >"$work/a.log" 2>&1 &
pid_a=$!
ip netns exec "$ns_b" "$native_bin" -n -l -f "$work/b.conf" -p "$work/b.pid" >"$work/b.log" 2>&1 &
pid_b=$!

wait_for 10 "MASTER on A ($triple under $qemu)" logged a "(VI_1) Entering MASTER STATE"
wait_for 5 "BACKUP on B (native)" logged b "(VI_1) Entering BACKUP STATE"
wait_for 3 "$vip on A" has_vip "$ns_a"
# B's Master_Down_Interval is 3 x 1 s + (256 - 100) / 256 s: staying backup well past it shows
# that B hears A's adverts (sent by the emulated binary).
sleep 4.5
logged b "(VI_1) Entering MASTER STATE" && fail "B became master while A was master (adverts lost?)"
has_vip "$ns_b" && fail "$vip on both routers"
echo "qemu-failover.sh: A ($triple) is master with $vip, B (native) stays backup"

# A graceful stop sends priority 0, so B takes over after Skew_Time (0.6 s), well before its
# Master_Down_Interval (3.6 s).
kill -TERM "$pid_a"
wait_for 3 "takeover by B within 3 s of stopping A" logged b "(VI_1) Entering MASTER STATE"
wait_for 3 "$vip on B" has_vip "$ns_b"
wait_for 5 "exit of A after SIGTERM" sh -c "! kill -0 $pid_a"
rc=0
wait "$pid_a" || rc=$?
pid_a=
[ "$rc" = 0 ] || fail "A exited with $rc after SIGTERM"
has_vip "$ns_a" && fail "A left $vip behind"
echo "qemu-failover.sh: A stopped cleanly, B took over $vip"

kill -TERM "$pid_b"
wait "$pid_b" || true
pid_b=
[ -z "${VERBOSE:-}" ] || show_logs
echo "qemu-failover.sh: ok"
