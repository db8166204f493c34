#!/usr/bin/env python3
"""Helpers for bench/run.sh: read captures, /proc and monitor logs; build the table.

Every subcommand prints plain whitespace-separated numbers so the shell side stays
simple.  Times are seconds since the epoch (CLOCK_REALTIME) everywhere: tcpdump
packet stamps, `ip -ts monitor` stamps (taken with TZ=UTC) and bash's
$EPOCHREALTIME all use that clock, so they can be subtracted directly.
"""

import datetime
import ipaddress
import os
import re
import statistics
import struct
import sys

ETH_IP = 0x0800
ETH_ARP = 0x0806
ETH_IP6 = 0x86DD
ETH_VLAN = 0x8100
PROTO_VRRP = 112
PROTO_ICMP6 = 58
ICMP6_NA = 136


# --- pcap ---------------------------------------------------------------------


def read_pcap(path):
    """Yield (ts, frame bytes) from a classic pcap file; stops quietly at a torn tail."""
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            return
        magic = head[:4]
        # Both byte orders, micro- and nanosecond flavours.
        table = {
            b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
            b"\xa1\xb2\xc3\xd4": (">", 1e-6),
            b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
            b"\xa1\xb2\x3c\x4d": (">", 1e-9),
        }
        if magic not in table:
            raise SystemExit(f"{path}: not a pcap file")
        endian, unit = table[magic]
        linktype = struct.unpack(endian + "I", head[20:24])[0]
        if linktype != 1:
            raise SystemExit(f"{path}: link type {linktype}, want Ethernet")
        rec = struct.Struct(endian + "IIII")
        while True:
            h = f.read(16)
            if len(h) < 16:
                return
            sec, frac, incl, _orig = rec.unpack(h)
            data = f.read(incl)
            if len(data) < incl:
                return
            yield sec + frac * unit, data


def ip4(b):
    return ".".join(str(x) for x in b)


def ip6(b):
    return ipaddress.IPv6Address(bytes(b)).compressed


def norm(addr):
    """An address as the decoders print it (IPv6 compressed), so text from the shell and
    from `ip monitor` compares equal to the packets'."""
    try:
        return ipaddress.ip_address(addr).compressed
    except ValueError:
        return addr


def packets(path):
    """Decode the frames we care about.

    Yields ("vrrp", ts, src_ip, vrid, prio), ("arp", ts, spa, tpa) or, for an IPv6
    neighbour advertisement, ("na", ts, target, src_ip).
    """
    for ts, fr in read_pcap(path):
        if len(fr) < 14:
            continue
        etype = struct.unpack("!H", fr[12:14])[0]
        off = 14
        if etype == ETH_VLAN and len(fr) >= 18:
            etype = struct.unpack("!H", fr[16:18])[0]
            off = 18
        if etype == ETH_IP:
            if len(fr) < off + 20:
                continue
            ihl = (fr[off] & 0x0F) * 4
            if fr[off + 9] != PROTO_VRRP or len(fr) < off + ihl + 3:
                continue
            v = off + ihl
            # The type nibble must be 1 (advertisement) in both versions.
            if fr[v] & 0x0F != 1:
                continue
            yield ("vrrp", ts, ip4(fr[off + 12 : off + 16]), fr[v + 1], fr[v + 2])
        elif etype == ETH_ARP:
            if len(fr) < off + 28:
                continue
            a = off
            yield ("arp", ts, ip4(fr[a + 14 : a + 18]), ip4(fr[a + 24 : a + 28]))
        elif etype == ETH_IP6:
            # No extension headers: both daemons send VRRP and NAs without them.
            if len(fr) < off + 40:
                continue
            nh, src, v = fr[off + 6], ip6(fr[off + 8 : off + 24]), off + 40
            if nh == PROTO_VRRP and len(fr) >= v + 3 and fr[v] & 0x0F == 1:
                yield ("vrrp", ts, src, fr[v + 1], fr[v + 2])
            elif nh == PROTO_ICMP6 and len(fr) >= v + 24 and fr[v] == ICMP6_NA:
                yield ("na", ts, ip6(fr[v + 8 : v + 24]), src)


# --- /proc ----------------------------------------------------------------------


def proc_table():
    """pid -> (ppid, utime+stime ticks) for every live process."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                s = f.read()
        except OSError:
            continue
        # comm may hold spaces or parentheses: split after the last ')'.
        rest = s[s.rfind(")") + 2 :].split()
        if len(rest) < 13 or rest[0] == "Z":
            continue
        out[int(name)] = (int(rest[1]), int(rest[11]) + int(rest[12]))
    return out


def family(root, table):
    """The root and all its descendants (a daemon's whole process tree)."""
    if root not in table:
        return []
    pids, todo = [root], [root]
    while todo:
        p = todo.pop()
        for c, (pp, _) in table.items():
            if pp == p and c not in pids:
                pids.append(c)
                todo.append(c)
    return pids


def cmd_tree(args):
    table = proc_table()
    seen = []
    for a in args:
        for p in family(int(a), table):
            if p not in seen:
                seen.append(p)
    print(" ".join(str(p) for p in seen))


def runtime_us(pid):
    """CPU time a process has run, in µs, from the scheduler's own nanosecond count
    (/proc/PID/schedstat). The tick counts in /proc/PID/stat move in 10 ms steps, too coarse
    for a daemon that uses 40 ms in a 10 s window."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[0]) // 1000
    except (OSError, ValueError, IndexError):
        return 0


def timeslices(pid):
    """Times the scheduler put a process on a CPU (/proc/PID/schedstat, third field): for a
    daemon that sleeps between events, its wake-ups (plus the rare preemption)."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[2])
    except (OSError, ValueError, IndexError):
        return 0


def cmd_cpu(args):
    """Print `<epoch> <cpu µs> <nprocs> <timeslices>` summed over the tree under PID."""
    import time

    pids = family(int(args[0]), proc_table())
    now = time.time()
    cpu = sum(runtime_us(p) for p in pids)
    print(f"{now:.6f} {cpu} {len(pids)} {sum(timeslices(p) for p in pids)}")


def cmd_mem(args):
    """Print `<rss kB> <pss kB> <nprocs>` summed over the tree under PID."""
    pids = family(int(args[0]), proc_table())
    rss = pss = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    k, _, v = line.partition(":")
                    if k == "Rss":
                        rss += int(v.split()[0])
                    elif k == "Pss":
                        pss += int(v.split()[0])
        except OSError:
            continue
    print(f"{rss} {pss} {len(pids)}")


# --- captures ---------------------------------------------------------------------


def cmd_adverts(args):
    """adverts PCAP FROM TO: `<count> <median gap> <p99 gap> <worst gap> <vrids>` (ms).

    Counts adverts with priority > 0 inside [FROM, TO]; gaps are taken per VRID
    between consecutive adverts and pooled.
    """
    path, t_from, t_to = args[0], float(args[1]), float(args[2])
    per = {}
    for p in packets(path):
        if p[0] == "vrrp" and p[4] > 0 and t_from <= p[1] <= t_to:
            per.setdefault(p[3], []).append(p[1])
    gaps = []
    for ts in per.values():
        ts.sort()
        gaps.extend(b - a for a, b in zip(ts, ts[1:]))
    count = sum(len(v) for v in per.values())
    if gaps:
        gaps.sort()
        p99 = gaps[min(len(gaps) - 1, int(len(gaps) * 0.99))]
        med, worst = statistics.median(gaps), gaps[-1]
        print(f"{count} {med * 1e3:.3f} {p99 * 1e3:.3f} {worst * 1e3:.3f} {len(per)}")
    else:
        print(f"{count} NA NA NA {len(per)}")


def cmd_first_advert(args):
    """first-advert PCAP T0: ms from T0 to the first advert (priority > 0) after it."""
    path, t0 = args[0], float(args[1])
    for p in packets(path):
        if p[0] == "vrrp" and p[4] > 0 and p[1] >= t0:
            print(f"{(p[1] - t0) * 1e3:.3f}")
            return
    print("NA")


MON_RE = re.compile(r"^\[(\S+)\] (Deleted )?\d+: \S+\s+inet6? ([0-9a-f.:]+)/")


def read_monitor(path):
    """(ts, ip) for every address *added* in an `ip -ts monitor address` log."""
    out = []
    try:
        f = open(path)
    except OSError:
        return out
    with f:
        for line in f:
            m = MON_RE.match(line)
            if not m or m.group(2):
                continue
            try:
                dt = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f")
            except ValueError:
                continue
            out.append((dt.replace(tzinfo=datetime.timezone.utc).timestamp(), norm(m.group(3))))
    return out


def cmd_failover(args):
    """failover PCAP REPS VIP NS=MONLOG...: one line per repetition.

    REPS lines: `<t0> <mode> <master ns> <backup ns> <master ip>`.
    Output lines: `<mode> <vip from kill> <garp from kill> <vip from last> <garp from last>`
    in ms, NA where the event was not seen before the next repetition.  Over IPv6 the
    "garp" is the first unsolicited neighbour advertisement for the VIP.
    """
    path, reps_path, vip = args[0], args[1], norm(args[2])
    mons = {}
    for a in args[3:]:
        ns, _, log = a.partition("=")
        mons[ns] = read_monitor(log)
    reps = []
    with open(reps_path) as f:
        for line in f:
            w = line.split()
            if len(w) >= 5:
                reps.append((float(w[0]), w[1], w[2], w[3], norm(w[4])))
    pk = list(packets(path))
    for i, (t0, mode, _mns, bns, mip) in enumerate(reps):
        t_end = reps[i + 1][0] if i + 1 < len(reps) else float("inf")
        vip_t = next((t for t, a in mons.get(bns, []) if a == vip and t0 <= t < t_end), None)
        garp_t = next(
            (p[1] for p in pk if p[0] in ("arp", "na") and p[2] == vip and t0 <= p[1] < t_end),
            None,
        )
        # The master's last advert before the backup took over: for SIGKILL the
        # last one before the kill, for SIGTERM its priority-0 goodbye.
        horizon = min(x for x in (garp_t, vip_t, t_end) if x is not None)
        last = None
        for p in pk:
            if p[0] == "vrrp" and p[2] == mip and t0 - 10 <= p[1] < horizon:
                last = p[1]

        def ms(a, b):
            return "NA" if a is None or b is None else f"{(a - b) * 1e3:.3f}"

        print(mode, ms(vip_t, t0), ms(garp_t, t0), ms(vip_t, last), ms(garp_t, last))


# --- report ---------------------------------------------------------------------


def fmt(x, dec):
    return f"{x:.{dec}f}"


def cell(vals, dec):
    if not vals:
        return None
    med = statistics.median(vals)
    if len(vals) == 1:
        return fmt(med, dec)
    return f"{fmt(med, dec)} ({fmt(min(vals), dec)}–{fmt(max(vals), dec)})"


def cmd_report(args):
    """report TSV OUT [HEADER_LINE...]: print the markdown table and write it to OUT.

    TSV lines: `row <id> <label> <decimals>`, `val <id> <daemon> <number>`,
    `na <id> <daemon> <short reason>`, `note <text>`.
    """
    tsv, out = args[0], args[1]
    header = args[2:]
    rows, vals, nas, notes = [], {}, {}, []
    with open(tsv) as f:
        for line in f:
            w = line.rstrip("\n").split("\t")
            if w[0] == "row" and len(w) == 4:
                if w[1] not in [r[0] for r in rows]:
                    rows.append((w[1], w[2], int(w[3])))
            elif w[0] == "val" and len(w) == 4:
                try:
                    vals.setdefault((w[1], w[2]), []).append(float(w[3]))
                except ValueError:
                    nas.setdefault((w[1], w[2]), w[3])
            elif w[0] == "na" and len(w) == 4:
                nas.setdefault((w[1], w[2]), w[3])
            elif w[0] == "note" and len(w) == 2 and w[1] not in notes:
                notes.append(w[1])
    lines = list(header)
    lines.append("")
    # With `run.sh --base`, a second vrrpd (the "before" of a change) gets two more columns.
    base = any(d == "vrrpd-base" for (_, d) in list(vals) + list(nas))
    daemons = ("vrrpd", "keepalived", "vrrpd-base") if base else ("vrrpd", "keepalived")
    if base:
        lines.append("| figure | vrrpd | keepalived | ratio | vrrpd before | ratio before |")
        lines.append("|---|---:|---:|---:|---:|---:|")
    else:
        lines.append("| figure | vrrpd | keepalived | ratio |")
        lines.append("|---|---:|---:|---:|")
    for rid, label, dec in rows:
        cells, meds = [], []
        for d in daemons:
            v = vals.get((rid, d), [])
            c = cell(v, dec)
            if c is None:
                c = nas.get((rid, d), "—")
                meds.append(None)
            else:
                meds.append(statistics.median(v))
            cells.append(c)
        a, b = meds[0], meds[1]
        ratio = f"{a / b:.2f}" if a is not None and b else "—"
        if base:
            c = meds[2]
            before = f"{c / b:.2f}" if c is not None and b else "—"
            lines.append(f"| {label} | {cells[0]} | {cells[1]} | {ratio} | {cells[2]} | {before} |")
        else:
            lines.append(f"| {label} | {cells[0]} | {cells[1]} | {ratio} |")
    if notes:
        lines.append("")
        lines.append("Notes:")
        lines.extend(f"- {n}" for n in notes)
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    with open(out, "w") as f:
        f.write(text)


def cmd_is_mipsel(args):
    """is-mipsel FILE: exit 0 if FILE is a 32-bit little-endian MIPS ELF."""
    try:
        with open(args[0], "rb") as f:
            h = f.read(20)
    except OSError:
        sys.exit(1)
    # e_ident: magic, class 1 (32-bit), data 1 (LE); e_machine 8 is EM_MIPS.
    ok = len(h) == 20 and h[:4] == b"\x7fELF" and h[4] == 1 and h[5] == 1
    sys.exit(0 if ok and struct.unpack("<H", h[18:20])[0] == 8 else 1)


COMMANDS = {
    "tree": cmd_tree,
    "cpu": cmd_cpu,
    "mem": cmd_mem,
    "adverts": cmd_adverts,
    "first-advert": cmd_first_advert,
    "failover": cmd_failover,
    "report": cmd_report,
    "is-mipsel": cmd_is_mipsel,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        raise SystemExit("usage: analyze.py {" + "|".join(COMMANDS) + "} ...")
    COMMANDS[sys.argv[1]](sys.argv[2:])
