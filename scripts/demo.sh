#!/usr/bin/env bash
# vrrpd demo: three routers on one bridge, each in its own network namespace, sharing
# 10.99.0.100. Shows who holds the address, stops the master, shows the take-over, brings the
# master back, shows the preemption. Everything is removed on exit.
#
# Run as root on a Debian/Ubuntu machine with cargo:   sudo scripts/demo.sh
# VRRPD=/path/to/vrrpd skips the build and runs that binary instead.
set -euo pipefail

cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "demo.sh: run as root (it creates network namespaces)" >&2; exit 1; }

if ! command -v ip >/dev/null; then
    echo "installing iproute2..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null
fi
if [ -z "${VRRPD:-}" ]; then
    echo "building vrrpd (cargo build --release)..."
    cargo build --release --quiet
    VRRPD=$PWD/target/release/vrrpd
fi
[ -f etc/vrrpd.conf ] || { echo "demo.sh: etc/vrrpd.conf not found" >&2; exit 1; }

P=vd                                   # namespaces vdsw (the switch) and vdr1..vdr3
PRIO=([1]=150 [2]=100 [3]=50)
VIP=$(awk '/virtual_ipaddress/ {f=1; next} f && match($1, /^[0-9.]+/) {print substr($1, 1, RLENGTH); exit}' etc/vrrpd.conf)
DIR=""
declare -A PID=()

# Kill what runs in our namespaces (only ours: they carry the demo's names), then delete them.
cleanup() {
    for p in "${PID[@]}"; do kill "$p" 2>/dev/null || true; done     # graceful stop first
    for p in "${PID[@]}"; do wait "$p" 2>/dev/null || true; done
    for ns in ${P}r1 ${P}r2 ${P}r3 ${P}sw; do
        if ip netns list | grep -qw "$ns"; then
            for p in $(ip netns pids "$ns"); do kill -9 "$p" 2>/dev/null || true; done
            ip netns del "$ns"
        fi
    done
    if [ -n "$DIR" ]; then rm -rf "$DIR"; fi
}
trap cleanup EXIT
cleanup                                # leftovers of an interrupted earlier run
DIR=$(mktemp -d /tmp/vrrpd-demo.XXXXXX)

# The switch: a bridge in its own namespace. Router i: eth0 at 10.99.0.1i, plugged into it.
ip netns add ${P}sw
ip -n ${P}sw link add br0 type bridge forward_delay 0 stp_state 0 mcast_snooping 0
ip -n ${P}sw link set br0 up
for i in 1 2 3; do
    ip netns add ${P}r$i
    ip -n ${P}sw link add p$i type veth peer name eth0 netns ${P}r$i
    ip -n ${P}sw link set p$i master br0 up
    ip -n ${P}r$i link set lo up
    ip -n ${P}r$i link set eth0 address 02:99:00:00:00:0$i
    ip -n ${P}r$i addr add 10.99.0.1$i/24 dev eth0
    ip -n ${P}r$i link set eth0 up
    # The example config with this router's name and priority.
    sed -E -e "s/^([[:space:]]*priority)[[:space:]]+[0-9]+.*/\1 ${PRIO[$i]}/" \
        -e "s/^([[:space:]]*router_id)[[:space:]]+[^[:space:]]+.*/\1 r$i/" \
        etc/vrrpd.conf >"$DIR/r$i.conf"
done

start() {
    ip netns exec ${P}r$1 "$VRRPD" -n -l -f "$DIR/r$1.conf" -p "$DIR/r$1.pid" >>"$DIR/r$1.log" 2>&1 &
    PID[$1]=$!
}

holders() {
    local who=""
    for i in 1 2 3; do
        ip -n ${P}r$i -4 -o addr show dev eth0 | grep -q " $VIP/" && who="$who r$i"
    done
    echo "${who# }"
}

# Waits (up to 15 s) until exactly router $1 holds the VIP, then prints the line.
report() {
    local want=$1 what=$2 t0=${EPOCHREALTIME/./}
    for _ in $(seq 150); do
        [ "$(holders)" = "r$want" ] && break
        sleep 0.1
    done
    local ms=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
    printf '%-36s %s is on %-8s (after %d ms)\n' "$what" "$VIP" "$(holders)" "$ms"
}

echo "three routers on a bridge: r1 priority 150, r2 100, r3 50; virtual address $VIP"
for i in 1 2 3; do start $i; sleep 0.2; done
report 1 "started vrrpd on r1, r2, r3:"
kill "${PID[1]}"; wait "${PID[1]}" || true
report 2 "stopped r1 (the master):"
start 1
report 1 "started r1 again (it preempts):"
echo "state changes logged:"
for i in 1 2 3; do grep -h "Entering" "$DIR/r$i.log" | sed "s/^/    r$i: /"; done
