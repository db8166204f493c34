#!/usr/bin/env python3
"""Records process connector datagrams for the tests in src/sys/connector.rs and the seeds of
fuzz/seeds/connector_parse: subscribes (as vrrpd does), forks a child that renames itself with
prctl(PR_SET_NAME), execs /bin/true and exits, and prints each datagram about that child (and
the subscription's ack) as hex. Run as root in the initial network namespace:

    python3 scripts/record-proc-events.py
"""
import ctypes
import os
import select
import socket
import struct
import time

NETLINK_CONNECTOR, CN_IDX_PROC, CN_VAL_PROC, LISTEN = 11, 1, 1, 1
NAMES = {0: "ack", 1: "fork", 2: "exec", 0x200: "comm", 0x80000000: "exit"}

s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
s.bind((0, CN_IDX_PROC))
op = struct.pack("=I", LISTEN)
cn = struct.pack("=IIIIHH", CN_IDX_PROC, CN_VAL_PROC, 0, 0, len(op), 0) + op
s.send(struct.pack("=IHHII", 16 + len(cn), 3, 0, 0, s.getsockname()[0]) + cn)

child = os.fork()
if child == 0:
    ctypes.CDLL(None).prctl(15, b"vrrpd-renamed", 0, 0, 0)
    os.execv("/bin/true", ["true"])
os.waitpid(child, 0)

end = time.time() + 0.5
while time.time() < end:
    if not select.select([s], [], [], 0.1)[0]:
        continue
    d = s.recv(8192)
    what = struct.unpack_from("=I", d, 36)[0]
    pids = struct.unpack_from("=4i", d, 52)
    if what == 0 or child in pids:
        print(NAMES.get(what, hex(what)), d.hex())
print("child", child, "parent", os.getpid())
