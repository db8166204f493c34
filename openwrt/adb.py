#!/usr/bin/env python3
"""Write an apk-tools v3 package (ADB format) from a staged root, without apk-tools or the SDK.

    adb.py -o OUT.apk -I name:vrrpd -I version:0.1.0-r1 -I arch:mipsel_24kc ... \
           -s post-install:FILE ... -F ROOT

What `apk mkpkg` writes, for an unsigned package (`apk add --allow-untrusted` takes it):

    "ADBd" + raw deflate of:
      "ADB." "pckg"                          file header: magic, schema
      block ADB:  adb_hdr + the value tree   the package object (info, paths, scripts)
      block DATA: u32 path, u32 file, bytes  one per non-empty regular file, in path/file order

Blocks are a little-endian u32 (type << 30 | 4 + length) then the payload, padded to 8 bytes.
Inside the ADB block every value is a u32 tag (type << 28 | immediate or offset, offsets from
the block's start); objects and arrays are a count slot then one slot per field, 1-based.
Field numbers are apk-tools' src/apk_adb.h; doc/apk-v3.5.scd describes the encoding.

Every entry is owned by root:root; modes are taken from the staged files. Directories are listed
with their own entry (apk-tools' default compat level does the same). Python's standard library
only: zlib gives the raw deflate stream (wbits -15), hashlib the SHA-256 apk checks on install.
"""

import argparse
import hashlib
import os
import stat
import struct
import sys
import zlib

# Value types (high 4 bits of a tag).
T_INT, T_INT32 = 0x1, 0x2
T_BLOB8, T_BLOB16, T_BLOB32 = 0x8, 0x9, 0xA
T_ARRAY, T_OBJECT = 0xD, 0xE
NULL = 0

# Blocks.
BLOCK_ADB, BLOCK_DATA = 0, 2
ALIGN = 8

# Field numbers (src/apk_adb.h).
PKG = {"info": 1, "paths": 2, "scripts": 3}
INFO = {
    "name": 1, "version": 2, "hashes": 3, "description": 4, "arch": 5, "license": 6,
    "origin": 7, "maintainer": 8, "url": 9, "build-time": 11, "installed-size": 12,
}
SCRIPTS = {
    "trigger": 1, "pre-install": 2, "post-install": 3, "pre-deinstall": 4,
    "post-deinstall": 5, "pre-upgrade": 6, "post-upgrade": 7,
}
ACL_MODE, ACL_USER, ACL_GROUP = 1, 2, 3
FI_NAME, FI_ACL, FI_SIZE, FI_MTIME, FI_HASH = 1, 2, 3, 4, 5
DI_NAME, DI_ACL, DI_FILES = 1, 2, 3

# The unique id is the first 20 bytes (a SHA-1's length) of the SHA-256 of the ADB block,
# computed with the id itself still zero, as `apk mkpkg` does.
UNIQUE_ID_LEN = 20


class Adb:
    """An ADB block being written: values are appended, each aligned to its own size."""

    def __init__(self):
        # adb_hdr: compat version 0, version 0, reserved, root (patched last).
        self.buf = bytearray(struct.pack("<BBHI", 0, 0, 0, NULL))

    def _put(self, data, align):
        self.buf.extend(b"\0" * (-len(self.buf) % align))
        off = len(self.buf)
        if off > 0x0FFFFFFF:
            sys.exit("adb.py: package metadata too large")
        self.buf.extend(data)
        return off

    def blob(self, data):
        if isinstance(data, str):
            data = data.encode()
        if not data:
            return NULL
        if len(data) <= 0xFF:
            return T_BLOB8 << 28 | self._put(struct.pack("<B", len(data)) + data, 1)
        if len(data) <= 0xFFFF:
            return T_BLOB16 << 28 | self._put(struct.pack("<H", len(data)) + data, 2)
        return T_BLOB32 << 28 | self._put(struct.pack("<I", len(data)) + data, 4)

    def int(self, n):
        if n < 0x10000000:
            return T_INT << 28 | n
        return T_INT32 << 28 | self._put(struct.pack("<I", n), 4)

    def _slots(self, kind, vals):
        # vals[0] is field 1. Trailing NULLs are dropped; an empty object is NULL itself.
        while vals and vals[-1] == NULL:
            vals.pop()
        if not vals:
            return NULL
        data = struct.pack("<%dI" % (len(vals) + 1), len(vals) + 1, *vals)
        return kind << 28 | self._put(data, 4)

    def obj(self, fields):
        """fields: {field number: value}."""
        vals = [NULL] * max(fields, default=0)
        for i, v in fields.items():
            vals[i - 1] = v
        return self._slots(T_OBJECT, vals)

    def arr(self, items):
        return self._slots(T_ARRAY, [v for v in items if v != NULL])

    def root(self, val):
        struct.pack_into("<I", self.buf, 4, val)


def block(kind, payload):
    raw = 4 + len(payload)
    if raw > 0x3FFFFFFF:
        sys.exit("adb.py: block too large")
    return struct.pack("<I", kind << 30 | raw) + payload + b"\0" * (-raw % ALIGN)


def scan(top):
    """[(dir relative path, dir mode, [(file name, mode, bytes)])], sorted as apk sorts them."""
    dirs = []
    for cur, subdirs, names in os.walk(top):
        subdirs.sort()
        rel = os.path.relpath(cur, top)
        rel = "" if rel == "." else rel
        files = []
        for n in sorted(names, key=os.fsencode):
            p = os.path.join(cur, n)
            st = os.lstat(p)
            if not stat.S_ISREG(st.st_mode):
                sys.exit("adb.py: %s: only regular files and directories are packaged" % p)
            with open(p, "rb") as f:
                files.append((n, stat.S_IMODE(st.st_mode), f.read()))
        dirs.append((rel, stat.S_IMODE(os.lstat(cur).st_mode), files))
    dirs.sort(key=lambda d: os.fsencode(d[0]))
    return dirs


def main():
    ap = argparse.ArgumentParser(description="write an apk-tools v3 package")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("-F", "--files", required=True, help="staged root directory")
    ap.add_argument("-I", "--info", action="append", default=[], help="FIELD:VALUE")
    ap.add_argument("-s", "--script", action="append", default=[], help="TYPE:FILE")
    ap.add_argument("--mtime", type=int, default=0, help="mtime of every file (build time)")
    a = ap.parse_args()

    info = {}
    for kv in a.info:
        k, sep, v = kv.partition(":")
        if not sep or k not in INFO or k in ("hashes", "installed-size"):
            sys.exit("adb.py: bad --info %r" % kv)
        info[k] = v
    for k in ("name", "version", "arch"):
        if k not in info:
            sys.exit("adb.py: --info %s: is required" % k)
    scripts = {}
    for kv in a.script:
        k, sep, path = kv.partition(":")
        if not sep or k not in SCRIPTS:
            sys.exit("adb.py: bad --script %r" % kv)
        with open(path, "rb") as f:
            scripts[SCRIPTS[k]] = f.read()

    dirs = scan(a.files)
    db = Adb()

    def acl(mode):
        return db.obj({ACL_MODE: db.int(mode), ACL_USER: db.blob("root"), ACL_GROUP: db.blob("root")})

    paths = []
    data = []
    for i, (name, mode, files) in enumerate(dirs, start=1):
        entries = []
        for j, (fname, fmode, content) in enumerate(files, start=1):
            entries.append(db.obj({
                FI_NAME: db.blob(fname),
                FI_ACL: acl(fmode),
                FI_SIZE: db.int(len(content)),
                FI_MTIME: db.int(a.mtime),
                FI_HASH: db.blob(hashlib.sha256(content).digest()),
            }))
            if content:
                data.append(struct.pack("<II", i, j) + content)
        paths.append(db.obj({DI_NAME: db.blob(name), DI_ACL: acl(mode), DI_FILES: db.arr(entries)}))

    fields = {INFO[k]: (db.int(int(v)) if k == "build-time" else db.blob(v)) for k, v in info.items()}
    installed = sum(len(c) for _, _, fs in dirs for _, _, c in fs)
    fields[INFO["installed-size"]] = db.int(max(installed, 1))
    # Written raw (never shared with an equal blob) so it can be patched in place below.
    uid_val = db.blob(b"\0" * UNIQUE_ID_LEN)
    fields[INFO["hashes"]] = uid_val
    pkg = {PKG["info"]: db.obj(fields), PKG["paths"]: db.arr(paths)}
    if scripts:
        pkg[PKG["scripts"]] = db.obj({i: db.blob(s) for i, s in scripts.items()})
    db.root(db.obj(pkg))
    uid_off = (uid_val & 0x0FFFFFFF) + 1
    db.buf[uid_off:uid_off + UNIQUE_ID_LEN] = hashlib.sha256(db.buf).digest()[:UNIQUE_ID_LEN]

    body = b"ADB." + b"pckg" + block(BLOCK_ADB, bytes(db.buf))
    body += b"".join(block(BLOCK_DATA, d) for d in data)
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = b"ADBd" + z.compress(body) + z.flush()
    tmp = a.output + ".tmp"
    with open(tmp, "wb") as f:
        f.write(out)
    os.replace(tmp, a.output)


if __name__ == "__main__":
    main()
