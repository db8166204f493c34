#!/usr/bin/env bash
# Benchmark vrrpd against keepalived in network namespaces (see bench/README.md).
#
# Topology: vb-sw holds bridge br0; vb-r1 and vb-r2 each have eth0 (a veth into
# br0) with 10.99.0.11/24 and 10.99.0.12/24 (and, for the IPv6 figures only, the nodad
# link-locals fe80::11 and fe80::12).  Every figure runs keepalived and then
# vrrpd from the same generated keepalived-dialect config file; captures are taken
# on br0, so the wire timing is the same for both.
#
# Usage: bench/run.sh [--quick] [--only NAME[,NAME...]] [--base BINARY] [VRRPD_BINARY]
# Run as root.  Prints one markdown table and writes it to bench/results/latest.md.

set -u -o pipefail
export LC_ALL=C # "." as the decimal point in $EPOCHREALTIME and printf

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
FIGURES="failover timer cpu memory startup size flaps process failover6 cpu6"

usage() {
	cat <<EOF
usage: $0 [--quick] [--only NAME[,NAME...]] [--base BINARY] [[--vrrpd] VRRPD_BINARY]
  --quick        3 repetitions and short windows (a smoke run, ~4 min)
  --only NAMES   run only these figures: ${FIGURES// /, }
  --base BINARY  also run this vrrpd (a build from before a change), in two more columns
  VRRPD_BINARY   default target/release/vrrpd (built with cargo if missing)
EOF
}

QUICK=0
ONLY=""
VRRPD=""
BASE=""
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--only)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		ONLY=$2
		shift
		;;
	--only=*) ONLY=${1#--only=} ;;
	--base)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		BASE=$2
		shift
		;;
	--vrrpd)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		VRRPD=$2
		shift
		;;
	-h | --help) usage; exit 0 ;;
	-*) usage >&2; exit 2 ;;
	*) VRRPD=$1 ;;
	esac
	shift
done
for f in ${ONLY//,/ }; do
	case " $FIGURES " in *" $f "*) ;; *) echo "unknown figure '$f' (have: $FIGURES)" >&2; exit 2 ;; esac
done
want() { [ -z "$ONLY" ] || case ",$ONLY," in *",$1,"*) true ;; *) false ;; esac; }

[ "$(id -u)" = 0 ] || { echo "run as root (network namespaces)" >&2; exit 2; }
# One run at a time on a machine: a second would delete the first's namespaces at set-up, and
# two measuring at once skew each other's CPU and timer figures.
exec {BENCH_LOCK}>/run/lock/vrrpd-bench.lock
flock -n "$BENCH_LOCK" || { echo "another bench/run.sh is running (/run/lock/vrrpd-bench.lock)" >&2; exit 2; }
for t in ip tcpdump keepalived python3 awk ldd; do
	command -v "$t" >/dev/null || { echo "missing tool: $t" >&2; exit 2; }
done

if [ "$QUICK" = 1 ]; then
	REPS=3 WINDOW=3 FLAP_SECS=10
else
	REPS=10 WINDOW=10 FLAP_SECS=60
fi

NS=vb # the namespaces' prefix: vb-sw, vb-r1, vb-r2
NS_SW=$NS-sw NS_R1=$NS-r1 NS_R2=$NS-r2
IP_R1=10.99.0.11 IP_R2=10.99.0.12 VIP=10.99.0.100
# The owner's VIP is a second address of r1: keepalived sources adverts from an
# interface address that is not a VIP, so r1 keeps 10.99.0.11 as primary.
OWNER_IP=10.99.0.21
DAEMONS="keepalived vrrpd"

# The address family of the figure being run; set_family switches it (IPv4 unless a
# figure asks for IPv6).  VIP is the address that failover times, VIPS all of the
# failover instance's addresses, KEY6 keeps IPv6 row ids and raw files apart, and the
# capture filter and snap length fit the family's adverts and announcements.
FAM=4 VIPS=$VIP/24 KEY6="" ANNOUNCE=GARP FAM_LABEL=""
CAP_FILTER='ip proto 112 or arp' CAP_SNAP=64

RESULTS=$HERE/results
RAW=$RESULTS/raw
TSV=$RAW/results.tsv
rm -rf "$RAW"
mkdir -p "$RAW"
: >"$TSV"

py() { python3 "$HERE/analyze.py" "$@"; }
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

# --- time helpers (integer milliseconds; bash has no floats) ----------------------

now_ms() {
	local t=$EPOCHREALTIME
	echo $((${t/./} / 1000))
}
ms2s() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
msleep() { sleep "$(ms2s "$1")"; }
# A long sleep the exit trap can interrupt (bash runs traps only between commands,
# but `wait` returns at once on a trapped signal).
NAP=""
nap() {
	sleep "$1" &
	NAP=$!
	wait "$NAP"
	NAP=""
}
calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }

# advert_int as the config wants it: 1000 -> 1, 100 -> 0.1, 10 -> 0.01
adv_int() {
	local s
	s=$(ms2s "$1")
	while [ "${s%0}" != "$s" ]; do s=${s%0}; done
	echo "${s%.}"
}

# --- process tracking ---------------------------------------------------------------
# A process is named by a token "pid:starttime" so that a recycled pid is never
# signalled.  Everything started here is recorded in TRACKED for the exit trap.

TRACKED=()

# tok PID -> "pid:starttime" (field 22 of /proc/PID/stat), fails if gone.
tok() {
	local p=$1 s
	s=$(cat "/proc/$p/stat" 2>/dev/null) || return 1
	s=${s##*) }
	set -- $s
	echo "$p:${20}"
}

# tok_alive TOKEN: the process still exists, is not a zombie and is the same one.
tok_alive() {
	local p=${1%%:*} st=${1##*:} s
	s=$(cat "/proc/$p/stat" 2>/dev/null) || return 1
	s=${s##*) }
	set -- $s
	[ "$1" != Z ] && [ "${20}" = "$st" ]
}

# track PID: remember it for the exit trap; disown so bash prints no "Killed" notices
# (bash still reaps it; liveness is checked through /proc, not through wait).
track() {
	local t
	t=$(tok "$1") && TRACKED+=("$t")
	disown "$1" 2>/dev/null
	return 0
}

# tree_toks PID: tokens of PID and its descendants (keepalived forks a VRRP child).
tree_toks() {
	local p t
	for p in $(py tree "$1"); do
		t=$(tok "$p") && echo "$t"
	done
}

# stop_toks SIG TIMEOUT_MS TOKEN...: signal the first token, wait for all to go,
# then SIGKILL whatever is left.
stop_toks() {
	local sig=$1 to=$2 t end
	shift 2
	[ $# -gt 0 ] || return 0
	tok_alive "$1" && kill "-$sig" "${1%%:*}" 2>/dev/null
	end=$(($(now_ms) + to))
	while [ "$(now_ms)" -lt "$end" ]; do
		local any=0
		for t in "$@"; do tok_alive "$t" && any=1; done
		[ $any = 0 ] && return 0
		sleep 0.02
	done
	for t in "$@"; do tok_alive "$t" && kill -KILL "${t%%:*}" 2>/dev/null; done
	sleep 0.05
	return 1
}

# Stop a daemon gracefully (SIGTERM), bounded.
stop_daemon() {
	local toks
	toks=$(tree_toks "$1")
	# shellcheck disable=SC2086 # one token per word
	[ -n "$toks" ] && stop_toks TERM 8000 $toks
	return 0
}

# Stop a helper (tcpdump, ip monitor): SIGTERM lets tcpdump flush its file.
stop_helper() {
	local t
	t=$(tok "$1") && stop_toks TERM 3000 "$t"
	return 0
}

# --- topology -------------------------------------------------------------------------

teardown() {
	local n
	for n in "$NS_R1" "$NS_R2" "$NS_SW"; do
		[ -e "/run/netns/$n" ] && ip netns del "$n" 2>/dev/null
	done
	return 0
}

setup() {
	local n i
	teardown
	for n in "$NS_SW" "$NS_R1" "$NS_R2"; do
		ip netns add "$n" || return 1
		# No IPv6: keeps DAD and MLD chatter out of the captures.
		ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
		ip -n "$n" link set lo up
	done
	# No STP, no snooping: frames are flooded at once to every port.
	ip -n "$NS_SW" link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0 || return 1
	ip -n "$NS_SW" link set br0 up
	# Where br_netfilter is loaded (Docker loads it), every bridged frame would also run the
	# iptables hooks, in softirq, charged to whichever daemon sent it. Routers' switches do not
	# (OpenWrt does not install br_netfilter by default), so the harness does not either.
	ip netns exec "$NS_SW" sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
		net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0 2>/dev/null || true
	for i in 1 2; do
		ip -n "$NS_SW" link add "p$i" type veth peer name eth0 netns "$NS-r$i" || return 1
		ip -n "$NS_SW" link set "p$i" master br0 up
		ip -n "$NS-r$i" link set eth0 up
	done
	reset_addrs
}

# Back to just the router's own address (daemons killed with -9 leave VIPs behind,
# and an address owner may remove its own address on stop).
reset_addrs() {
	local i
	for i in 1 2; do
		ip -n "$NS-r$i" addr flush dev eth0
		ip -n "$NS-r$i" addr add "10.99.0.1$i/24" dev eth0
		# VRRPv3 over IPv6 sends from a link-local; nodad makes it usable at once.
		[ "$FAM" = 6 ] && ip -n "$NS-r$i" addr add "fe80::1$i/64" dev eth0 nodad
	done
	return 0
}

cleanup() {
	local rc=$? t toks=()
	trap - EXIT INT TERM
	[ -n "$NAP" ] && kill "$NAP" 2>/dev/null
	for t in "${TRACKED[@]}"; do
		tok_alive "$t" && toks+=($(tree_toks "${t%%:*}"))
	done
	for t in "${toks[@]}"; do tok_alive "$t" && kill -KILL "${t%%:*}" 2>/dev/null; done
	teardown
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- captures and monitors ---------------------------------------------------------------

# cap_start FILE: capture VRRP and ARP on the bridge; sets CAPPID once it listens.
cap_start() {
	ip netns exec "$NS_SW" tcpdump -i br0 -n -s "$CAP_SNAP" -B 32768 --time-stamp-precision=micro \
		-w "$1" "$CAP_FILTER" 2>"$1.err" &
	CAPPID=$!
	track "$CAPPID"
	local end=$(($(now_ms) + 5000))
	until grep -q 'listening on' "$1.err" 2>/dev/null; do
		[ "$(now_ms)" -lt "$end" ] || { log "tcpdump did not start: $(cat "$1.err")"; return 1; }
		sleep 0.02
	done
}

cap_stop() {
	# tcpdump reads the kernel's capture ring a block at a time, and a block that is not full
	# is handed over only after the 1 s block timeout: stopped at once, it loses the last
	# second (seen after vrrpd's quick exits: up to 800 adverts, and once a failover's last
	# priority-0 advert and NAs).
	sleep 1.1
	stop_helper "$CAPPID"
	local drops
	drops=$(awk '/dropped by kernel/ { print $1 }' "$1.err" 2>/dev/null)
	if [ -n "$drops" ] && [ "$drops" != 0 ]; then
		note "capture $(basename "$1") lost $drops packets in the kernel; its counts are low"
	fi
}

# mon_start NS FILE: timestamped address events of a router; sets MONPID.
mon_start() {
	TZ=UTC ip -n "$1" -ts monitor address >"$2" 2>&1 &
	MONPID=$!
	track "$MONPID"
}

# --- results --------------------------------------------------------------------------------

row() { printf 'row\t%s\t%s\t%s\n' "$1" "$2" "$3" >>"$TSV"; } # id label decimals
val() { printf 'val\t%s\t%s\t%s\n' "$1" "$2" "$3" >>"$TSV"; } # id daemon number
na() { printf 'na\t%s\t%s\t%s\n' "$1" "$2" "$3" >>"$TSV"; }   # id daemon reason
note() { printf 'note\t%s\n' "$1" >>"$TSV"; }

declare -A FAILED_NOTE
# fail_note DAEMON TAG: one note per daemon with the log tail of the first failure.
fail_note() {
	local d=$1 tag=$2 last
	[ -n "${FAILED_NOTE[$d]:-}" ] && return 0
	FAILED_NOTE[$d]=1
	last=$(grep -v '^\s*$' "$RAW/$tag.log" 2>/dev/null | tail -n 1 | tr -d '\t|')
	note "$d did not reach the expected state (first in run $tag); last log line: '${last:-<empty>}'"
}

# --- configs and daemons ------------------------------------------------------------------

# gen_conf FILE COUNT VERSION INTERVAL_MS STATE PRIORITY VIPS
#   VIPS: vip ($VIPS: 10.99.0.100/24, or over IPv6 fe80::100/64 and fd99::100/64),
#   owner (10.99.0.21/24, an address r1 holds), multi (one per instance: 10.99.<vrid>.1/32,
#   or over IPv6 fe80::1:<vrid in hex>/64).  VRIDs are 1..COUNT.
gen_conf() {
	local f=$1 n=$2 ver=$3 ims=$4 state=$5 prio=$6 kind=$7 i addr adv a vips
	adv=$(adv_int "$ims")
	{
		echo "# bench/run.sh: $n instance(s), VRRPv$ver, advert_int $adv"
		for ((i = 1; i <= n; i++)); do
			case $kind in
			vip) addr=$VIPS ;;
			owner) addr=$OWNER_IP/24 ;;
			*) if [ "$FAM" = 6 ]; then addr=$(printf 'fe80::1:%x/64' "$i"); else addr=10.99.$i.1/32; fi ;;
			esac
			vips=""
			for a in $addr; do vips+="        $a dev eth0"$'\n'; done
			cat <<EOF
vrrp_instance VI_$i {
    state $state
    interface eth0
    virtual_router_id $i
    priority $prio
    advert_int $adv
    version $ver
    virtual_ipaddress {
${vips%$'\n'}
    }
}
EOF
		done
	} >"$f"
}

# start_daemon DAEMON NS CONF TAG: runs it in the foreground of a background job;
# logs to $RAW/TAG.log, stamps the exec time (epoch seconds) into $RAW/TAG.t0.
# Sets DPID.
start_daemon() {
	local d=$1 ns=$2 conf=$3 tag=$4 cmd
	case $d in
	keepalived)
		# -P VRRP only, -G no syslog, -R no respawn: a SIGKILLed child stays dead.
		cmd=(keepalived -n -l -G -P -R -f "$conf" -p "$RAW/$tag.pid" -r "$RAW/$tag.vpid"
			-c "$RAW/$tag.cpid")
		;;
	vrrpd) cmd=("$VRRPD" -n -l -f "$conf" -p "$RAW/$tag.pid") ;;
	vrrpd-base) cmd=("$BASE" -n -l -f "$conf" -p "$RAW/$tag.pid") ;;
	esac
	# The bash in between execs the daemon, so the stamp is taken just before exec.
	ip netns exec "$ns" bash -c 'echo "$EPOCHREALTIME" >"$0"; exec "$@"' "$RAW/$tag.t0" \
		"${cmd[@]}" >"$RAW/$tag.log" 2>&1 &
	DPID=$!
	track "$DPID"
}

# wait_log TAG PATTERN COUNT TIMEOUT_MS PID: until the log holds COUNT lines matching
# PATTERN.  Returns 1 on timeout, 2 if PID died first.
wait_log() {
	local f=$RAW/$1.log pat=$2 n=$3 end pid=$5 c t
	end=$(($(now_ms) + $4))
	t=$(tok "$pid") || t=""
	while :; do
		c=$(grep -c -- "$pat" "$f" 2>/dev/null)
		[ "${c:-0}" -ge "$n" ] && return 0
		if [ -z "$t" ] || ! tok_alive "$t"; then
			c=$(grep -c -- "$pat" "$f" 2>/dev/null)
			[ "${c:-0}" -ge "$n" ] && return 0
			return 2
		fi
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep 0.01
	done
}

count_log() {
	local c
	c=$(grep -c -- "$2" "$RAW/$1.log" 2>/dev/null)
	echo "${c:-0}"
}

# --- figure 1: failover -----------------------------------------------------------------------

# RFC timers for backup priority 100, in microseconds.
skew_us() { echo $(((256 - 100) * $1 * 1000 / 256)); }
mdi_us() { echo $((3 * $1 * 1000 + $(skew_us "$1"))); }
us2ms() { printf '%d.%02d' $(($1 / 1000)) $(($1 % 1000 / 10)); }

FO_SETTINGS="2:1000 3:100 3:10"

fo_label() { # VERSION INTERVAL_MS
	echo "v$1 $FAM_LABEL$(adv_int "$2") s"
}

fo_rows() { # [SETTINGS]
	local s ver ims key mode m lbl mdi skew
	for s in ${1:-$FO_SETTINGS}; do
		ver=${s%%:*} ims=${s##*:} key=v$ver-$ims$KEY6
		mdi=$(us2ms "$(mdi_us "$ims")") skew=$(us2ms "$(skew_us "$ims")")
		for mode in kill term; do
			if [ $mode = kill ]; then
				m="SIGKILL" lbl="RFC MDI $mdi ms"
			else
				m="SIGTERM" lbl="RFC Skew $skew ms"
			fi
			row "fo-$key-$mode-vip-kill" "Failover $(fo_label "$ver" "$ims"), $m: VIP up, from signal, ms ($lbl)" 1
			row "fo-$key-$mode-vip-last" "Failover $(fo_label "$ver" "$ims"), $m: VIP up, from master's last advert, ms" 1
			row "fo-$key-$mode-garp-kill" "Failover $(fo_label "$ver" "$ims"), $m: first $ANNOUNCE, from signal, ms" 1
			row "fo-$key-$mode-garp-last" "Failover $(fo_label "$ver" "$ims"), $m: first $ANNOUNCE, from master's last advert, ms" 1
		done
	done
}

fo_na() { # DAEMON KEY REASON
	local mode x y
	for mode in kill term; do
		for x in vip garp; do
			for y in kill last; do na "fo-$2-$mode-$x-$y" "$1" "$3"; done
		done
	done
}

# One failover run's state, shared by the fo_* helpers (bash has no closures).
declare -A FO_PID FO_TAG
FO_D="" FO_KEY="" FO_CONF="" FO_N=0 FO_MDI=0 FO_FAIL="" FO_RESTARTS=0

# fo_start NS: a fresh daemon with a fresh log in NS.
fo_start() {
	local tag=fo-$FO_KEY-$FO_D-$FO_N
	FO_N=$((FO_N + 1))
	local a
	for a in $VIPS; do ip -n "$1" addr del "$a" dev eth0 2>/dev/null; done # a SIGKILLed master leaves them
	start_daemon "$FO_D" "$1" "$FO_CONF" "$tag"
	FO_PID[$1]=$DPID FO_TAG[$1]=$tag
}

fo_stop() {
	[ -n "${FO_PID[$1]:-}" ] && stop_daemon "${FO_PID[$1]}"
	FO_PID[$1]=""
}

# fo_bringup MASTER_NS BACKUP_NS: (re)start both daemons, the master first.
fo_bringup() {
	fo_stop "$1"
	fo_stop "$2"
	fo_start "$1"
	if ! wait_log "${FO_TAG[$1]}" "Entering MASTER STATE" 1 $((3 * FO_MDI + 5000)) "${FO_PID[$1]}"; then
		FO_FAIL=${FO_TAG[$1]}
		return 1
	fi
	fo_start "$2"
	if ! wait_log "${FO_TAG[$2]}" "Entering BACKUP STATE" 1 5000 "${FO_PID[$2]}"; then
		FO_FAIL=${FO_TAG[$2]}
		return 1
	fi
}

# fo_steady MASTER_NS BACKUP_NS: both run, the master's latest state is MASTER and the
# backup has never been master.  (At 10 ms a busy machine can make a fresh backup
# time out before it hears the master; then the pair is restarted.)
fo_steady() {
	local t
	for t in "${FO_PID[$1]}" "${FO_PID[$2]}"; do
		t=$(tok "$t") && tok_alive "$t" || return 1
	done
	[ "$(count_log "${FO_TAG[$2]}" "Entering MASTER STATE")" = 0 ] &&
		[ "$(grep -o 'Entering [A-Z]* STATE' "$RAW/${FO_TAG[$1]}.log" | tail -n 1)" = "Entering MASTER STATE" ]
}

# failover_run DAEMON VERSION INTERVAL_MS
# Both routers run the same file (priority 100, state BACKUP); r1 starts first and
# becomes master.  Each repetition signals the master, waits for the backup to take
# over, restarts the signalled router (it comes back as backup) and swaps roles, so
# the backup is always a daemon that has never been master.
failover_run() {
	local d=$1 ver=$2 ims=$3 key=v$2-$3$KEY6 pcap reps mode rep tries m b toks t0 pids rc
	local -A ip
	FO_D=$d FO_KEY=$key FO_CONF=$RAW/fo-$key.conf FO_N=0 FO_FAIL="" FO_RESTARTS=0
	FO_MDI=$(($(mdi_us "$ims") / 1000))
	FO_PID=() FO_TAG=()
	pcap=$RAW/fo-$key-$d.pcap reps=$RAW/fo-$key-$d.reps
	gen_conf "$FO_CONF" 1 "$ver" "$ims" BACKUP 100 vip
	: >"$reps"
	reset_addrs
	cap_start "$pcap" || { fo_na "$d" "$key" "capture failed"; return; }
	local cap=$CAPPID mon1 mon2
	mon_start "$NS_R1" "$RAW/fo-$key-$d.mon1"
	mon1=$MONPID
	mon_start "$NS_R2" "$RAW/fo-$key-$d.mon2"
	mon2=$MONPID
	ip[$NS_R1]=$IP_R1 ip[$NS_R2]=$IP_R2

	m=$NS_R1 b=$NS_R2
	fo_bringup "$m" "$b"
	for mode in kill term; do
		[ -n "$FO_FAIL" ] && break
		for ((rep = 1; rep <= REPS; rep++)); do
			# Let the backup hear a few adverts, with a random phase so that "from
			# signal" samples the whole advert interval.
			tries=0
			until msleep $((2 * ims + 100 + RANDOM % ims)) && fo_steady "$m" "$b"; do
				tries=$((tries + 1)) FO_RESTARTS=$((FO_RESTARTS + 1))
				if [ $tries -gt 3 ]; then
					FO_FAIL=${FO_TAG[$b]}
					break 3
				fi
				fo_bringup "$m" "$b" || break 3
			done
			toks=$(tree_toks "${FO_PID[$m]}")
			pids=$(for t in $toks; do echo "${t%%:*}"; done | tac | tr '\n' ' ')
			t0=$EPOCHREALTIME
			if [ $mode = kill ]; then
				# shellcheck disable=SC2086 # children first, then the parent
				kill -KILL $pids 2>/dev/null
			else
				kill -TERM "${FO_PID[$m]}" 2>/dev/null
			fi
			echo "$t0 $mode $m $b ${ip[$m]}" >>"$reps"
			wait_log "${FO_TAG[$b]}" "Entering MASTER STATE" 1 $((2 * FO_MDI + 3000)) "${FO_PID[$b]}"
			rc=$?
			# shellcheck disable=SC2086
			stop_toks TERM 8000 $toks
			FO_PID[$m]=""
			if [ $rc != 0 ]; then
				FO_FAIL=${FO_TAG[$b]}
				break 2
			fi
			fo_start "$m"
			if ! wait_log "${FO_TAG[$m]}" "Entering BACKUP STATE" 1 5000 "${FO_PID[$m]}"; then
				FO_FAIL=${FO_TAG[$m]}
				break 2
			fi
			t0=$m m=$b b=$t0
		done
	done
	fo_stop "$NS_R1"
	fo_stop "$NS_R2"
	stop_helper "$mon1"
	stop_helper "$mon2"
	CAPPID=$cap cap_stop "$pcap"
	if [ "$FO_RESTARTS" -gt 0 ]; then
		note "$d, failover $(fo_label "$ver" "$ims"): the pair was restarted $FO_RESTARTS time(s) because the backup had become master on its own before a signal"
	fi
	if [ -n "$FO_FAIL" ]; then
		fail_note "$d" "$FO_FAIL"
		if [ ! -s "$reps" ]; then
			fo_na "$d" "$key" "failed"
			return
		fi
	fi
	local vk gk vl gl
	py failover "$pcap" "$reps" "$VIP" "$NS_R1=$RAW/fo-$key-$d.mon1" "$NS_R2=$RAW/fo-$key-$d.mon2" |
		while read -r mode vk gk vl gl; do
			[ "$vk" = NA ] || val "fo-$key-$mode-vip-kill" "$d" "$vk"
			[ "$gk" = NA ] || val "fo-$key-$mode-garp-kill" "$d" "$gk"
			[ "$vl" = NA ] || val "fo-$key-$mode-vip-last" "$d" "$vl"
			[ "$gl" = NA ] || val "fo-$key-$mode-garp-last" "$d" "$gl"
		done
}

fig_failover() { # [SETTINGS]
	local s d
	fo_rows "${1:-$FO_SETTINGS}"
	for s in ${1:-$FO_SETTINGS}; do
		for d in $DAEMONS; do
			log "failover $(fo_label "${s%%:*}" "${s##*:}"): $d"
			failover_run "$d" "${s%%:*}" "${s##*:}"
		done
	done
}

# --- figures 2-4: a lone master with N instances ---------------------------------------------
# master_run DAEMON COUNT INTERVAL_MS: start r1 as master of COUNT instances (VRRPv3),
# then over WINDOW seconds read CPU, memory and the capture.  Sets MR[key.field].

declare -A MR
master_run() {
	local d=$1 n=$2 ims=$3 key=$2-$3$KEY6-$1 conf pcap tag a b mem cap
	conf=$RAW/m-$n-$ims$KEY6.conf pcap=$RAW/m-$key.pcap tag=m-$key
	MR[$key.ok]=0
	gen_conf "$conf" "$n" 3 "$ims" BACKUP 150 multi
	reset_addrs
	cap_start "$pcap" || return
	cap=$CAPPID
	start_daemon "$d" "$NS_R1" "$conf" "$tag"
	if wait_log "$tag" "Entering MASTER STATE" "$n" $((20000 + 4 * ims)) "$DPID"; then
		sleep 0.5
		a=$(py cpu "$DPID")
		nap "$WINDOW"
		b=$(py cpu "$DPID")
		mem=$(py mem "$DPID")
		MR[$key.ok]=1
	else
		fail_note "$d" "$tag"
	fi
	stop_daemon "$DPID"
	CAPPID=$cap cap_stop "$pcap"
	[ "${MR[$key.ok]}" = 1 ] || { rm -f "$pcap"; return; }
	local ta tb ca cb wa wb cnt med p99 worst vr
	read -r ta ca _ wa <<<"$a"
	read -r tb cb _ wb <<<"$b"
	read -r cnt med p99 worst vr < <(py adverts "$pcap" "$ta" "$tb")
	local rss pss procs
	read -r rss pss procs <<<"$mem"
	MR[$key.rss]=$rss MR[$key.pss]=$pss MR[$key.procs]=$procs
	MR[$key.secs]=$(calc "$tb - $ta")
	MR[$key.cpu_ms]=$(calc "($cb - $ca) / 1000")
	MR[$key.cpu_pct]=$(calc "${MR[$key.cpu_ms]} / 10 / ${MR[$key.secs]}")
	MR[$key.rate]=$(calc "$cnt / ${MR[$key.secs]}")
	MR[$key.wake]=$(calc "(${wb:-0} - ${wa:-0}) / ${MR[$key.secs]}")
	MR[$key.adverts]=$cnt
	MR[$key.med]=$med
	MR[$key.p99]=$p99
	MR[$key.worst]=$worst
	MR[$key.vrids]=$vr
	rm -f "$pcap"
}

# mr_put KEY FIELD DAEMON ROWID: emit a value or an n/a for a table cell.
mr_put() {
	local key=$1 f=$2 d=$3 id=$4 v
	if [ "${MR[$key.ok]:-0}" = 1 ]; then
		v=${MR[$key.$f]}
		if [ "$v" = NA ]; then na "$id" "$d" "no data"; else val "$id" "$d" "$v"; fi
	else
		na "$id" "$d" "failed"
	fi
}

MASTER_RUNS=""
add_run() { case " $MASTER_RUNS " in *" $1 "*) ;; *) MASTER_RUNS="$MASTER_RUNS $1" ;; esac; }

fig_masters() {
	local r d n ims key
	want timer && add_run 1:10 && add_run 50:10
	want cpu && add_run 50:100 && add_run 50:10 && add_run 255:100 && add_run 255:10
	want memory && add_run 1:10 && add_run 50:10 && add_run 255:10
	[ -n "$MASTER_RUNS" ] || return 0

	if want timer; then
		for n in 1 50; do
			row "tim-$n-med" "Timer: advert spacing at 10 ms, $n inst. — median gap, ms" 3
			row "tim-$n-p99" "Timer: advert spacing at 10 ms, $n inst. — 99th percentile gap, ms" 3
			row "tim-$n-worst" "Timer: advert spacing at 10 ms, $n inst. — worst gap, ms" 3
		done
	fi
	if want cpu; then
		for r in 50:100 50:10 255:100 255:10; do
			n=${r%%:*} ims=${r##*:}
			row "cpu-$r-total" "CPU: master, $n inst. at $(adv_int "$ims") s — total CPU over ${WINDOW} s, % of one core" 1
			row "cpu-$r-per" "CPU: master, $n inst. at $(adv_int "$ims") s — CPU per advert sent, µs" 1
			row "cpu-$r-adv" "CPU: master, $n inst. at $(adv_int "$ims") s — adverts sent per second (nominal $((n * 1000 / ims)))" 0
			row "cpu-$r-wake" "CPU: master, $n inst. at $(adv_int "$ims") s — wake-ups per second (schedstat timeslices)" 0
		done
	fi
	if want memory; then
		for n in 1 50 255; do
			row "mem-$n-rss" "Memory: master, $n inst. at 10 ms — RSS, KiB (all processes)" 0
			row "mem-$n-pss" "Memory: master, $n inst. at 10 ms — PSS, KiB (all processes)" 0
		done
	fi

	for r in $MASTER_RUNS; do
		for d in $DAEMONS; do
			log "master ${r%%:*} instance(s) at $(adv_int "${r##*:}") s: $d"
			master_run "$d" "${r%%:*}" "${r##*:}"
		done
	done

	for d in $DAEMONS; do
		if want timer; then
			for n in 1 50; do
				mr_put "$n-10-$d" med "$d" "tim-$n-med"
				mr_put "$n-10-$d" p99 "$d" "tim-$n-p99"
				mr_put "$n-10-$d" worst "$d" "tim-$n-worst"
			done
		fi
		if want cpu; then
			for r in 50:100 50:10 255:100 255:10; do
				key=${r%%:*}-${r##*:}-$d
				mr_put "$key" cpu_pct "$d" "cpu-$r-total"
				mr_put "$key" rate "$d" "cpu-$r-adv"
				mr_put "$key" wake "$d" "cpu-$r-wake"
				if [ "${MR[$key.ok]:-0}" = 1 ] && [ "${MR[$key.adverts]}" -gt 0 ]; then
					val "cpu-$r-per" "$d" "$(calc "${MR[$key.cpu_ms]} * 1000 / ${MR[$key.adverts]}")"
				else
					na "cpu-$r-per" "$d" "failed"
				fi
			done
		fi
		if want memory; then
			for n in 1 50 255; do
				mr_put "$n-10-$d" rss "$d" "mem-$n-rss"
				mr_put "$n-10-$d" pss "$d" "mem-$n-pss"
			done
		fi
	done
}

# --- figure 5: start-up -------------------------------------------------------------------------

fig_startup() {
	local d rep conf pcap tag cap t0s t0 v
	row startup "Start-up: exec → first advert as master (priority-255 address owner, v3 1 s), ms" 2
	conf=$RAW/startup.conf
	gen_conf "$conf" 1 3 1000 MASTER 255 owner
	for d in $DAEMONS; do
		log "start-up: $d"
		pcap=$RAW/startup-$d.pcap
		cap_start "$pcap" || { na startup "$d" "capture failed"; continue; }
		cap=$CAPPID
		t0s=()
		for ((rep = 1; rep <= REPS; rep++)); do
			reset_addrs
			ip -n "$NS_R1" addr add "$OWNER_IP/24" dev eth0
			sleep 0.2
			tag=startup-$d-$rep
			start_daemon "$d" "$NS_R1" "$conf" "$tag"
			if wait_log "$tag" "Entering MASTER STATE" 1 5000 "$DPID"; then
				sleep 0.1
				t0s+=("$(cat "$RAW/$tag.t0")")
				stop_daemon "$DPID"
			else
				stop_daemon "$DPID"
				fail_note "$d" "$tag"
				break
			fi
		done
		CAPPID=$cap cap_stop "$pcap"
		[ ${#t0s[@]} -gt 0 ] || { na startup "$d" "failed"; continue; }
		for t0 in "${t0s[@]}"; do
			v=$(py first-advert "$pcap" "$t0")
			[ "$v" = NA ] || val startup "$d" "$v"
		done
	done
	reset_addrs
}

# --- figure 6: binary size -------------------------------------------------------------------------

# Sum of a binary and the shared objects ldd resolves for it, in bytes.
with_libs() {
	local total f
	total=$(stat -Lc %s "$1")
	for f in $(ldd "$1" 2>/dev/null | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }' | sort -u); do
		[ -f "$f" ] && total=$((total + $(stat -Lc %s "$f")))
	done
	echo "$total"
}

fig_size() {
	local k=/usr/sbin/keepalived mips="" f
	row size-bin "Binary size: executable, KiB" 0
	row size-libs "Binary size: executable + shared libraries (ldd), KiB" 0
	row size-mips "Binary size: static mipsel executable in dist/, KiB" 0
	val size-bin keepalived "$(calc "$(stat -Lc %s "$k") / 1024")"
	val size-libs keepalived "$(calc "$(with_libs "$k") / 1024")"
	na size-mips keepalived "—"
	if [ -x "$VRRPD" ]; then
		val size-bin vrrpd "$(calc "$(stat -Lc %s "$VRRPD") / 1024")"
		val size-libs vrrpd "$(calc "$(with_libs "$VRRPD") / 1024")"
	else
		na size-bin vrrpd "missing"
		na size-libs vrrpd "missing"
	fi
	if [ -d "$ROOT/dist" ]; then
		while IFS= read -r f; do
			py is-mipsel "$f" && { mips=$f; break; }
		done < <(find "$ROOT/dist" -type f | sort)
	fi
	if [ -n "$mips" ]; then
		val size-mips vrrpd "$(calc "$(stat -Lc %s "$mips") / 1024")"
		note "mipsel binary: ${mips#"$ROOT"/}"
	else
		na size-mips vrrpd "none in dist/"
	fi
}

# --- figure 7: false failovers ------------------------------------------------------------------------

fig_flaps() {
	local d c1 c2 t1 t2 p1 p2 b0 b1 m0 m1 ok
	row flap-backup "False failovers: 255 inst. at 10 ms for ${FLAP_SECS} s — backup → MASTER transitions" 0
	row flap-master "False failovers: 255 inst. at 10 ms for ${FLAP_SECS} s — master → BACKUP transitions" 0
	c1=$RAW/flap-r1.conf c2=$RAW/flap-r2.conf
	gen_conf "$c1" 255 3 10 BACKUP 150 multi
	gen_conf "$c2" 255 3 10 BACKUP 100 multi
	for d in $DAEMONS; do
		log "false failovers: $d (${FLAP_SECS} s)"
		reset_addrs
		t1=flap-$d-r1 t2=flap-$d-r2 ok=0 p2=""
		start_daemon "$d" "$NS_R1" "$c1" "$t1"; p1=$DPID
		if wait_log "$t1" "Entering MASTER STATE" 255 30000 "$p1"; then
			start_daemon "$d" "$NS_R2" "$c2" "$t2"; p2=$DPID
			if wait_log "$t2" "Entering BACKUP STATE" 255 30000 "$p2"; then
				sleep 1
				b0=$(count_log "$t2" "Entering MASTER STATE")
				m0=$(count_log "$t1" "Entering BACKUP STATE")
				nap "$FLAP_SECS"
				b1=$(count_log "$t2" "Entering MASTER STATE")
				m1=$(count_log "$t1" "Entering BACKUP STATE")
				tok_alive "$(tok "$p1")" && tok_alive "$(tok "$p2")" && ok=1
			else
				fail_note "$d" "$t2"
			fi
		else
			fail_note "$d" "$t1"
		fi
		[ -n "$p2" ] && stop_daemon "$p2"
		stop_daemon "$p1"
		if [ $ok = 1 ]; then
			val flap-backup "$d" $((b1 - b0))
			val flap-master "$d" $((m1 - m0))
		else
			na flap-backup "$d" "failed"
			na flap-master "$d" "failed"
		fi
	done
	reset_addrs
}

# --- figure 8: process exit -----------------------------------------------------------------------
# r1 (priority 150) tracks a process with `vrrp_track_process` (weight 0), r2 (100) does not.
# Each repetition SIGKILLs the process and times the VIP's arrival on r2 (ip monitor), then
# starts the process again and waits for r1 to take the VIP back (preempt).

fig_process() {
	local d rep c1 c2 svc sp t1 t2 p1 p2 pcap cap reps mon2 t0 ok why
	row proc-vip "Process exit → VIP on backup (track_process, weight 0, v3 1 s), ms (RFC Skew for the backup: $(us2ms "$(skew_us 1000)") ms)" 1
	svc=$RAW/vbproc-svc # its processes are named vbproc-svc
	cp /bin/sleep "$svc"
	c1=$RAW/proc-r1.conf c2=$RAW/proc-r2.conf
	gen_conf "$c1" 1 3 1000 BACKUP 150 vip
	sed -i 's/^    virtual_ipaddress {/    track_process {\n        svc\n    }\n&/' "$c1"
	printf 'vrrp_track_process svc {\n    process vbproc-svc\n}\n' | cat - "$c1" >"$c1.new"
	mv "$c1.new" "$c1"
	gen_conf "$c2" 1 3 1000 BACKUP 100 vip
	for d in $DAEMONS; do
		log "process exit: $d"
		reset_addrs
		t1=proc-$d-r1 t2=proc-$d-r2 ok=0 p2="" why=""
		pcap=$RAW/proc-$d.pcap reps=$RAW/proc-$d.reps
		: >"$reps"
		cap_start "$pcap" || { na proc-vip "$d" "capture failed"; continue; }
		cap=$CAPPID
		mon_start "$NS_R2" "$RAW/proc-$d.mon2"
		mon2=$MONPID
		"$svc" 3600 &
		sp=$!
		track "$sp"
		start_daemon "$d" "$NS_R1" "$c1" "$t1"
		p1=$DPID
		if wait_log "$t1" "Entering MASTER STATE" 1 10000 "$p1"; then
			start_daemon "$d" "$NS_R2" "$c2" "$t2"
			p2=$DPID
			if wait_log "$t2" "Entering BACKUP STATE" 1 5000 "$p2"; then
				ok=1
				for ((rep = 1; rep <= REPS; rep++)); do
					msleep $((1500 + RANDOM % 1000))
					t0=$EPOCHREALTIME
					kill -KILL "$sp" 2>/dev/null
					echo "$t0 proc $NS_R1 $NS_R2 $IP_R1" >>"$reps"
					if ! wait_log "$t2" "Entering MASTER STATE" "$rep" 5000 "$p2"; then
						fail_note "$d" "$t2"
						ok=0
						break
					fi
					"$svc" 3600 &
					sp=$!
					track "$sp"
					# Back: found by the next scan, then FAULT → BACKUP → preempt after
					# Master_Down_Interval.
					if ! wait_log "$t1" "Entering MASTER STATE" $((rep + 1)) 15000 "$p1" ||
						! wait_log "$t2" "Entering BACKUP STATE" $((rep + 1)) 5000 "$p2"; then
						fail_note "$d" "$t1"
						ok=0
						break
					fi
				done
			else
				fail_note "$d" "$t2"
			fi
		elif grep -q "FAULT" "$RAW/$t1.log"; then
			why="stays in FAULT: its track_process needs the process connector, which refuses subscriptions outside the initial network namespace"
		else
			fail_note "$d" "$t1"
		fi
		kill -KILL "$sp" 2>/dev/null
		[ -n "$p2" ] && stop_daemon "$p2"
		stop_daemon "$p1"
		stop_helper "$mon2"
		CAPPID=$cap cap_stop "$pcap"
		if [ -n "$why" ]; then
			na proc-vip "$d" "—"
			note "$d, process exit: $why (seen: $(grep -m1 -i -e 'refused' -e 'errno' "$RAW/$t1.log" | tr -d '\t|' | cut -c1-120))"
			continue
		fi
		if [ ! -s "$reps" ]; then
			na proc-vip "$d" "failed"
			continue
		fi
		[ $ok = 1 ] || note "$d, process exit: stopped early; cells hold the repetitions before"
		py failover "$pcap" "$reps" "$VIP" "$NS_R2=$RAW/proc-$d.mon2" |
			while read -r _ vk _ _ _; do
				[ "$vk" = NA ] || val proc-vip "$d" "$vk"
			done
	done
	reset_addrs
}

# --- IPv6 figures (failover6, cpu6) -------------------------------------------------------------
# The same measurements over VRRPv3/IPv6.  Only these figures turn IPv6 on, and only on the
# routers' eth0, so the IPv4 figures' captures stay free of DAD, MLD and router solicitations.

# set_family 4|6: switch the figures that follow to IPv4 or IPv6.  For IPv6 each router's
# eth0 gets IPv6 with no address of the kernel's own (addrgenmode none) and no DAD, and
# reset_addrs gives it a nodad link-local (fe80::11, fe80::12), the advert source both
# daemons need.  The failover VIPs are a link-local first (RFC 5798 section 5.2.9, as
# keepalived warns otherwise) and a global one, which is the one timed.
set_family() {
	local i on=0
	FAM=$1
	if [ "$1" = 6 ]; then
		IP_R1=fe80::11 IP_R2=fe80::12 VIP=fd99::100 VIPS="fe80::100/64 fd99::100/64"
		KEY6=-ip6 ANNOUNCE=NA FAM_LABEL="IPv6 "
		# VRRP, and ICMPv6 neighbour advertisements (type 136; no extension headers).
		CAP_FILTER='ip6 proto 112 or (icmp6 and ip6[40] == 136)' CAP_SNAP=96
	else
		IP_R1=10.99.0.11 IP_R2=10.99.0.12 VIP=10.99.0.100 VIPS=$VIP/24
		KEY6="" ANNOUNCE=GARP FAM_LABEL=""
		CAP_FILTER='ip proto 112 or arp' CAP_SNAP=64
		on=1
	fi
	for i in 1 2; do
		ip -n "$NS-r$i" link set eth0 addrgenmode none 2>/dev/null
		ip netns exec "$NS-r$i" sysctl -qw net.ipv6.conf.eth0.accept_dad=0 \
			net.ipv6.conf.eth0.router_solicitations=0 net.ipv6.conf.eth0.disable_ipv6=$on
	done
	reset_addrs
}

fig_failover6() {
	set_family 6
	fig_failover "3:100 3:10"
	set_family 4
}

CPU6_RUNS="50:100 255:10"

fig_cpu6() {
	local r d n ims key
	set_family 6
	for r in $CPU6_RUNS; do
		n=${r%%:*} ims=${r##*:}
		row "cpu6-$r-total" "CPU: master, IPv6, $n inst. at $(adv_int "$ims") s — total CPU over ${WINDOW} s, % of one core" 1
		row "cpu6-$r-per" "CPU: master, IPv6, $n inst. at $(adv_int "$ims") s — CPU per advert sent, µs" 1
		row "cpu6-$r-adv" "CPU: master, IPv6, $n inst. at $(adv_int "$ims") s — adverts sent per second (nominal $((n * 1000 / ims)))" 0
		for d in $DAEMONS; do
			log "master $n instance(s) at $(adv_int "$ims") s over IPv6: $d"
			master_run "$d" "$n" "$ims"
			key=$n-$ims$KEY6-$d
			mr_put "$key" cpu_pct "$d" "cpu6-$r-total"
			mr_put "$key" rate "$d" "cpu6-$r-adv"
			if [ "${MR[$key.ok]:-0}" = 1 ] && [ "${MR[$key.adverts]}" -gt 0 ]; then
				val "cpu6-$r-per" "$d" "$(calc "${MR[$key.cpu_ms]} * 1000 / ${MR[$key.adverts]}")"
			else
				na "cpu6-$r-per" "$d" "failed"
			fi
		done
	done
	set_family 4
}

# --- main ------------------------------------------------------------------------------------------

START=$(now_ms)
if [ -z "$VRRPD" ]; then
	VRRPD=$ROOT/target/release/vrrpd
	if [ ! -x "$VRRPD" ]; then
		log "building vrrpd (cargo build --release)"
		(cd "$ROOT" && cargo build --release) >"$RAW/cargo.log" 2>&1 ||
			note "cargo build --release failed, see bench/results/raw/cargo.log"
	fi
fi
case $VRRPD in /*) ;; *) VRRPD=$PWD/$VRRPD ;; esac
[ -x "$VRRPD" ] || note "no vrrpd binary at $VRRPD"
if [ -n "$BASE" ]; then
	case $BASE in /*) ;; *) BASE=$PWD/$BASE ;; esac
	[ -x "$BASE" ] || { echo "no vrrpd binary at $BASE" >&2; exit 2; }
	DAEMONS="$DAEMONS vrrpd-base"
fi

setup || { log "namespace setup failed"; exit 1; }
log "namespaces up; repetitions $REPS, window ${WINDOW} s, raw data in ${RAW#"$ROOT"/}"

want failover && fig_failover
fig_masters
want startup && fig_startup
want size && fig_size
want flaps && fig_flaps
want process && fig_process
want failover6 && fig_failover6
want cpu6 && fig_cpu6

ELAPSED=$((($(now_ms) - START) / 1000))
VVER=$("$VRRPD" -v 2>&1 | head -n 1) || VVER="not runnable"
KVER=$(keepalived -v 2>&1 | head -n 1)
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
MODE=full
[ "$QUICK" = 1 ] && MODE=quick
py report "$TSV" "$RESULTS/latest.md" \
	"# vrrpd vs keepalived" \
	"" \
	"$(date -u '+%Y-%m-%d %H:%M UTC'), commit $COMMIT, kernel $(uname -r), $(nproc) CPUs; $MODE run (${ONLY:-all figures}), $REPS repetitions, ${ELAPSED} s." \
	"vrrpd: ${VVER:-?} ($VRRPD); $KVER.${BASE:+ Before: $BASE.}" \
	"Cells: median (min–max) over the repetitions, or a single reading; ratio = vrrpd / keepalived of the medians."
