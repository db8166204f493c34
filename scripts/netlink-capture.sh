#!/usr/bin/env bash
# Prints the netlink bytes `ip` exchanges with the kernel, for the byte-for-byte tests in
# src/sys/netlink/*_tests.rs. Runs `ip ARGS…` in a fresh namespace (NS, default rcapture) where
# eth0 is ifindex 3 with fd99::5/64, fd99::100/64 and 10.0.0.5/24, as the tests assume.
#
#   scripts/netlink-capture.sh send -6 route prepend fd99:1::/64 via fd99::1 dev eth0 proto keepalived
#   scripts/netlink-capture.sh recv -6 route show table all
#
# send: the last request ip sent, as "LEN TYPE FLAGS" and the payload after the 16-byte header.
# recv: every route or rule message of the answers, as "TYPE PAYLOAD".
# Several commands in one namespace: NS=name KEEP=1 …, then `ip netns del name`.
set -euo pipefail
mode="$1"
shift
ns="${NS:-rcapture}"
out="$(mktemp)"
trap 'rm -f "$out"; [ -n "${KEEP:-}" ] || ip netns del "$ns" 2>/dev/null || true' EXIT
if ! ip netns list | grep -qx "$ns\( .*\)\?"; then
    ip netns add "$ns"
    # eth0's peer is made first: eth1 gets ifindex 2, eth0 3.
    ip -n "$ns" link add eth0 type veth peer name eth1
    for d in lo eth0 eth1; do ip -n "$ns" link set "$d" up; done
    ip -n "$ns" addr add 10.0.0.5/24 dev eth0
    ip -n "$ns" addr add fd99::5/64 dev eth0 nodad
    ip -n "$ns" addr add fd99::100/64 dev eth0 nodad
fi
case "$mode" in
send) trace=(-e trace=sendmsg -e write=3) ;;
recv) trace=(-e trace=recvmsg -e read=3) ;;
*) echo "usage: $0 send|recv IP-ARGS…" >&2; exit 2 ;;
esac
ip netns exec "$ns" strace "${trace[@]}" -o "$out" ip "$@" >/dev/null
python3 - "$mode" "$out" <<'PY'
import struct, sys
mode, path = sys.argv[1], sys.argv[2]
call = "sendmsg(3" if mode == "send" else "recvmsg(3"
bufs, cur = [], None
for line in open(path):
    if line.startswith(call):
        cur = []
        bufs.append(cur)
    elif line.startswith(" | ") and cur is not None:
        # " | 00000  70 00 00 00 … 00 00  ascii |": the hex columns.
        cur.append(line[10:58].replace(" ", ""))
if not bufs:
    sys.exit("no netlink traffic on fd 3 seen")
if mode == "send":
    raw = bytes.fromhex("".join(bufs[-1]))
    n, ty, flags = struct.unpack("<IHH", raw[:8])
    print(n, ty, hex(flags))
    print(raw[16:n].hex())
else:
    for b in bufs:
        raw, i = bytes.fromhex("".join(b)), 0
        while i + 16 <= len(raw):
            n, ty = struct.unpack("<IH", raw[i:i + 6])
            if n < 16:
                break
            if ty in (24, 25, 32, 33):  # RTM_NEW/DELROUTE, RTM_NEW/DELRULE
                print(ty, raw[i + 16:i + n].hex())
            i += (n + 3) & ~3
PY
