#!/usr/bin/env python3
"""Regenerates the fuzz seed corpora from tests/vectors, etc/*.conf and the kernel.

Run from the repository root as root (the netlink seeds come from a private network
namespace it creates and deletes): python3 fuzz/seeds/make_seeds.py
The seeds are committed; rerun only when the vectors or the example configs change.
"""
import glob
import os
import socket
import struct
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEEDS = os.path.join(ROOT, "fuzz", "seeds")


def pcap_frames(path):
    """Ethernet frames of a classic little-endian pcap file."""
    data = open(path, "rb").read()
    magic, _, _, _, _, _, linktype = struct.unpack("<IHHiIII", data[:24])
    assert magic == 0xA1B2C3D4 and linktype == 1, path
    at = 24
    while at + 16 <= len(data):
        _, _, incl, _ = struct.unpack("<IIII", data[at:at + 16])
        yield data[at + 16:at + 16 + incl]
        at += 16 + incl


def write(target, name, blob):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(blob)


# Selector byte of the rx_check target (see fuzz_targets/rx_check.rs): bit 0 v3, bit 1 PASS
# auth "s3cret", bit 2 unicast peer 10.99.0.12, bit 3 two VIPs (.100 and .101).
def selectors(name):
    if name.startswith("v3"):
        return [0b1001, 0b1101, 0b0001]
    if "pass" in name or "unicast" in name or "priority0" in name:
        return [0b0010, 0b0110, 0b0000]
    return [0b0000]


def packets():
    vectors = os.path.join(ROOT, "tests", "vectors")
    pcaps = glob.glob(os.path.join(vectors, "*.pcap")) + glob.glob(os.path.join(vectors, "frr", "*.pcap"))
    # FRR's whole-session capture only repeats the frames of the others.
    pcaps = [p for p in pcaps if not p.endswith("-session.pcap")]
    for path in sorted(pcaps):
        base = os.path.basename(path)[:-5]
        for n, frame in enumerate(pcap_frames(path)):
            ethertype = struct.unpack(">H", frame[12:14])[0]
            tag = f"{base}-{n}"
            if ethertype == 0x0806:
                write("arp_parse", tag, frame)
            elif ethertype == 0x0800:
                ip = frame[14:]
                ihl = (ip[0] & 0x0F) * 4
                write("vrrp_parse", tag, ip[ihl:])
                for s in selectors(base):
                    write("rx_check", f"{tag}-sel{s}", bytes([s]) + ip)
            else:
                # IPv6 (v3 over IPv6, unsolicited NA): still good shapes for the byte parsers.
                write("vrrp_parse", tag, frame[14 + 40:])
                write("arp_parse", tag, frame)


def configs():
    for path in sorted(glob.glob(os.path.join(ROOT, "etc", "*.conf"))):
        write("config_load", os.path.basename(path), open(path, "rb").read())
    for path in sorted(glob.glob(os.path.join(ROOT, "tests", "vectors", "*.txt"))):
        text = open(path).read()
        parts = text.split("--- config of ")
        for n, part in enumerate(parts[1:]):
            body = part.split("\n", 1)[1].split("\n---")[0]
            name = os.path.basename(path)[:-4]
            write("config_load", f"{name}-{n}.conf", body.encode())


NS = "vhseeds"


def netlink_in_ns():
    """Real rtnetlink datagrams: link and address dumps plus the events of a veth pair."""
    if os.geteuid() != 0:
        print("not root: netlink seeds not regenerated")
        return
    subprocess.run(["ip", "netns", "add", NS], check=True)
    try:
        script = r'''
import os, socket, struct, subprocess, sys
out = sys.argv[1]
grp = 1 | 0x10  # RTMGRP_LINK | RTMGRP_IPV4_IFADDR
mon = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
mon.bind((0, grp))
for cmd in (["link", "add", "vhs0", "type", "veth", "peer", "name", "vhs1"],
            ["addr", "add", "10.99.0.1/24", "dev", "vhs0"],
            ["addr", "add", "10.99.0.100/24", "dev", "vhs0", "label", "vhs0:vip"],
            ["link", "set", "vhs0", "up"], ["link", "set", "vhs1", "up"],
            ["addr", "del", "10.99.0.100/24", "dev", "vhs0"],
            ["link", "set", "vhs0", "down"], ["link", "del", "vhs0"]):
    subprocess.run(["ip"] + cmd, check=True)
mon.settimeout(0.5)
n = 0
try:
    while True:
        open(f"{out}/event-{n}", "wb").write(mon.recv(65536)); n += 1
except socket.timeout:
    pass
subprocess.run(["ip", "link", "add", "vhs0", "type", "veth", "peer", "name", "vhs1"], check=True)
subprocess.run(["ip", "addr", "add", "10.99.0.1/24", "dev", "vhs0"], check=True)
for kind, ty, fam in (("links", 18, 0), ("addrs", 22, 2)):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    body = struct.pack("BBBBI", fam, 0, 0, 0, 0) if ty == 22 else struct.pack("BxHiII", fam, 0, 0, 0, 0)
    s.send(struct.pack("=IHHII", 16 + len(body), ty, 0x301, 1, 0) + body)
    k = 0
    while True:
        d = s.recv(65536)
        open(f"{out}/dump-{kind}-{k}", "wb").write(d); k += 1
        if struct.unpack("=IH", d[:6])[1] == 3:  # NLMSG_DONE
            break
'''
        d = os.path.join(SEEDS, "netlink_parse")
        os.makedirs(d, exist_ok=True)
        subprocess.run(["ip", "netns", "exec", NS, "python3", "-c", script, d], check=True)
    finally:
        subprocess.run(["ip", "netns", "del", NS], check=False)


if __name__ == "__main__":
    packets()
    configs()
    netlink_in_ns()
    for t in sorted(os.listdir(SEEDS)):
        p = os.path.join(SEEDS, t)
        if os.path.isdir(p):
            print(t, len(os.listdir(p)), "seeds")
