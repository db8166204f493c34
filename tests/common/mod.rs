//! A network-namespace lab for vrrpd's integration tests.
//!
//! `Lab::new("vtabc", 3)` builds a switch namespace `vtabcsw` holding bridge `br0`, and router
//! namespaces `vtabcr1..3`, each with `eth0` (a veth into the bridge) at 10.99.0.(10+i)/24 and MAC
//! 02:99:00:00:00:0i. Daemons started through the lab run inside those namespaces; everything is
//! killed and deleted on drop, also when the test panics. Every test uses its own prefix, so tests
//! run in parallel; a per-prefix lock file serialises two runs that picked the same prefix.
//! `Lab::with(prefix, Topo::routers(n).net(k).base(b))` puts the routers at 10.99.k.(b+i)
//! instead; `link` adds more interfaces between two routers, `isolate`/`disconnect`/`connect`
//! partition and re-wire them, and `in_netns`/`listen`/`forge_v4` send and hear VRRP from a
//! thread inside a namespace (a router with no daemon serves as flooder or observer).
//!
//! `Lab::frr` runs FRR's zebra + vrrpd on a router instead (see `frr.rs`).
//!
//! Set `VRRPD_LAB_SUBJECT=keepalived` to run the vrrpd side of the scenarios (`Lab::dut`) with
//! keepalived instead: that checks the lab and the scenarios against a known-good daemon.
//! Set `VRRPD_LAB_KEEP=1` to keep each lab's files (configs, logs, pcaps) in
//! $TMPDIR/vrrpd-lab/PREFIX; they are always kept when a test fails.
#![allow(dead_code, unused_imports)]

mod capture;
mod conf;
mod daemon;
mod frr;
mod packets;
mod run;
mod switch;
mod tools;

pub use capture::{Capture, tshark_fields, tshark_verbose};
pub use conf::{MARGIN, VIP, Vi, conf};
pub use daemon::{Daemon, Dump, Kind, describe, tail};
pub use frr::{Af, Frr, FrrVr, Mixed, VIP6, frr_available, macvlan, virtual_mac};
pub use packets::{Heard, forge_v4, in_netns, listen, vrrp_socket};
pub use run::{Ran, alive as process_alive};

use std::cell::Cell;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use daemon::{Registry, spawn_in};
use run::{must, run, run_for, sigkill, wait_gone};
use tools::t;

/// Polls `cond` every `every` until it holds (true) or `timeout` passes (false).
pub fn wait_until(timeout: Duration, every: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(every);
    }
}

/// Router `i`'s own address.
pub fn router_ip(i: usize) -> String {
    format!("10.99.0.{}", 10 + i)
}

/// Router `i`'s MAC on eth0.
pub fn router_mac(i: usize) -> String {
    format!("02:99:00:00:00:{i:02x}")
}

/// The client namespace's address and MAC.
pub const CLIENT_IP: &str = "10.99.0.250";
/// The client's IPv6 address (`Lab::add_client6`), on the fd99::/64 of the IPv6 tests.
pub const CLIENT_IP6: &str = "fd99::250";
pub const CLIENT_MAC: &str = "02:99:00:00:00:fa";

/// Which daemon `Lab::dut` starts: vrrpd, or keepalived when VRRPD_LAB_SUBJECT=keepalived.
pub fn subject() -> Kind {
    match std::env::var("VRRPD_LAB_SUBJECT").as_deref() {
        Ok("keepalived") => Kind::Keepalived,
        _ => Kind::Vrrpd,
    }
}

/// The vrrpd binary cargo built for this test run.
pub fn vrrpd_bin() -> &'static str {
    env!("CARGO_BIN_EXE_vrrpd")
}

/// strace, for tests that look at a daemon's system calls (checked by `Lab::new`).
pub fn strace() -> &'static Path {
    &t().strace
}

/// The shape of a lab: how many routers, and where their eth0 addresses sit.
#[derive(Clone, Copy, Debug)]
pub struct Topo {
    pub routers: usize,
    /// Third octet of the LAN: 10.99.{net}.0/24.
    pub net: u8,
    /// Router i's eth0 is 10.99.{net}.{base + i}.
    pub base: u8,
}

impl Topo {
    /// `n` routers at 10.99.0.11, .12, … (what `Lab::new` builds).
    pub fn routers(n: usize) -> Topo {
        Topo {
            routers: n,
            net: 0,
            base: 10,
        }
    }

    /// The LAN is 10.99.{net}.0/24 instead.
    pub fn net(self, net: u8) -> Topo {
        Topo { net, ..self }
    }

    /// Router i gets host part `base + i`.
    pub fn base(self, base: u8) -> Topo {
        Topo { base, ..self }
    }
}

/// How `Lab::vrrpd_with` starts vrrpd; `Start::default()` is what `Lab::vrrpd` does.
#[derive(Clone, Copy, Debug, Default)]
pub struct Start<'a> {
    /// Without -D (debug logging): for tests that count log lines or flood the daemon.
    pub quiet: bool,
    /// A command that execs its arguments (setpriv …), run in the namespace before vrrpd.
    pub wrapper: &'a [&'a str],
    /// The pidfile, when the test cares where it is (to test its lock).
    pub pidfile: Option<&'a Path>,
}

impl Start<'static> {
    /// Plain vrrpd without -D.
    pub const QUIET: Start<'static> = Start {
        quiet: true,
        wrapper: &[],
        pidfile: None,
    };
}

pub struct Lab {
    pub prefix: String,
    pub n: usize,
    topo: Topo,
    dir: PathBuf,
    /// Namespaces we created (deleted on drop).
    namespaces: Vec<String>,
    registry: Registry,
    seq: Cell<u32>,
    /// flock on a per-prefix file, held for the lab's lifetime.
    _lock: File,
}

impl Lab {
    /// Builds the lab, or returns `None` (after printing "skipped: …") when the machine lacks
    /// root or a tool and CI is not set. In CI a missing tool panics.
    pub fn new(prefix: &str, n: usize) -> Option<Lab> {
        Lab::with(prefix, Topo::routers(n))
    }

    /// `Lab::new` with another shape (subnet, host numbering).
    pub fn with(prefix: &str, topo: Topo) -> Option<Lab> {
        let n = topo.routers;
        assert!(
            (2..=6).contains(&prefix.len()) && prefix.bytes().all(|b| b.is_ascii_lowercase()),
            "lab prefix must be 2-6 lowercase letters: {prefix:?}"
        );
        assert!((1..=9).contains(&n), "a lab has 1-9 routers");
        assert!(
            usize::from(topo.base) + n < 250,
            "router addresses would reach the client's"
        );
        tools::tools()?;
        let base = std::env::temp_dir().join("vrrpd-lab");
        if let Err(e) = std::fs::create_dir_all(&base) {
            panic!("cannot create {}: {e}", base.display());
        }
        // Every directory above a script must be closed to others for script security.
        set_mode(&base, 0o755);
        let lock = lock_file(&base.join(format!("{prefix}.lock")));
        let dir = base.join(prefix);
        // Leftovers of an earlier run with this prefix: its namespaces, processes, files.
        // We hold the prefix lock, so whoever made them is gone.
        delete_stale(prefix);
        let _ = std::fs::remove_dir_all(&dir);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            panic!("cannot create {}: {e}", dir.display());
        }
        // Root-owned and closed to others, so vrrpd's script security accepts scripts in it.
        set_mode(&dir, 0o755);
        let mut lab = Lab {
            prefix: prefix.to_string(),
            n,
            topo,
            dir,
            namespaces: Vec::new(),
            registry: Arc::new(Mutex::new(Vec::new())),
            seq: Cell::new(0),
            _lock: lock,
        };
        lab.build();
        Some(lab)
    }

    fn build(&mut self) {
        let sw = self.sw();
        self.add_ns(&sw);
        self.batch(
            &sw,
            &[
                // No STP, no forwarding delay: ports forward at once. No IGMP snooping, so
                // multicast floods to every port whatever the routers joined.
                "link add br0 type bridge forward_delay 0 stp_state 0 mcast_snooping 0".into(),
                "link set br0 up".into(),
            ],
        );
        for i in 1..=self.n {
            let ns = self.ns(i);
            self.add_ns(&ns);
            self.connect(i);
        }
    }

    /// Plugs namespace `ns` into the bridge as port `port`, with eth0 at `ip`/24 and `mac`, and
    /// waits for its carrier (a daemon started before it would begin in FAULT).
    fn plug_in(&self, ns: &str, port: &str, ip: &str, mac: &str) {
        self.batch(
            &self.sw(),
            &[
                format!("link add {port} type veth peer name eth0 netns {ns}"),
                format!("link set {port} master br0"),
                format!("link set {port} up"),
            ],
        );
        self.batch(
            ns,
            &[
                format!("link set eth0 address {mac}"),
                format!("addr add {ip}/24 dev eth0"),
                "link set eth0 up".into(),
            ],
        );
        self.wait_carrier(ns, "eth0");
    }

    /// (Re)creates router `i`'s eth0 and its bridge port `p{i}`, as the lab first built them.
    pub fn connect(&self, i: usize) {
        self.plug_in(
            &self.ns(i),
            &format!("p{i}"),
            &self.host_ip(i),
            &router_mac(i),
        );
    }

    /// Deletes router `i`'s bridge port, and with it (a veth pair) the router's eth0.
    pub fn disconnect(&self, i: usize) {
        self.sw_ip(&["link", "del", &format!("p{i}")]);
    }

    /// Takes router `i`'s port off the bridge (`cut`) or puts it back. Unlike `port`, both ends
    /// keep their carrier: the router hears silence, not a link fault.
    pub fn isolate(&self, i: usize, cut: bool) {
        let port = format!("p{i}");
        let how: &[&str] = if cut {
            &["nomaster"]
        } else {
            &["master", "br0"]
        };
        let mut args = vec!["link", "set", port.as_str()];
        args.extend_from_slice(how);
        self.sw_ip(&args);
    }

    /// A veth pair `ifname` between routers `i` and `j` (the same name on both sides), at
    /// 10.99.{net}.{base+i}/24 and .{base+j}/24, up with carrier.
    pub fn link(&self, i: usize, j: usize, ifname: &str, net: u8) {
        let (a, b) = (self.ns(i), self.ns(j));
        self.ip(
            i,
            &[
                "link", "add", ifname, "type", "veth", "peer", "name", ifname, "netns", &b,
            ],
        );
        for (k, ns) in [(i, &a), (j, &b)] {
            let addr = format!("10.99.{net}.{}/24", self.host(k));
            self.batch(
                ns,
                &[
                    format!("addr add {addr} dev {ifname}"),
                    format!("link set {ifname} up"),
                ],
            );
        }
        for ns in [&a, &b] {
            self.wait_carrier(ns, ifname);
        }
    }

    /// Waits (10 s at most) until `ifname` in namespace `ns` has carrier.
    pub fn wait_carrier(&self, ns: &str, ifname: &str) {
        let up = wait_until(Duration::from_secs(10), Duration::from_millis(20), || {
            run(&t().ip, &["-n", ns, "link", "show", ifname])
                .stdout
                .contains("LOWER_UP")
        });
        assert!(up, "{ifname} in {ns} has no carrier");
    }

    /// `ip -n ROUTER_i ARGS…`, which must succeed; its output.
    pub fn ip(&self, i: usize, args: &[&str]) -> String {
        ip_in(&self.ns(i), args)
    }

    /// `ip -n SWITCH ARGS…`, which must succeed; its output.
    pub fn sw_ip(&self, args: &[&str]) -> String {
        ip_in(&self.sw(), args)
    }

    fn add_ns(&mut self, ns: &str) {
        // Record first, so a failure half-way is still cleaned up on drop.
        self.namespaces.push(ns.to_string());
        must(&t().ip, &["netns", "add", ns]);
        must(&t().ip, &["-n", ns, "link", "set", "lo", "up"]);
    }

    /// Runs iproute2 commands in namespace `ns`, one `ip -batch` per call.
    fn batch(&self, ns: &str, cmds: &[String]) {
        let file = self.path(&format!("batch-{}.ip", self.next()));
        write_file(&file, &(cmds.join("\n") + "\n"));
        must(&t().ip, &["-n", ns, "-batch", &file.display().to_string()]);
    }

    fn next(&self) -> u32 {
        let n = self.seq.get() + 1;
        self.seq.set(n);
        n
    }

    /// A path in the lab's private directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `text` to a file in the lab directory and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        write_file(&p, text);
        p
    }

    /// Writes an executable (0755) file at `rel` under the lab directory, making its parents.
    pub fn script(&self, rel: &str, body: &str) -> PathBuf {
        let p = self.path(rel);
        if let Some(d) = p.parent()
            && let Err(e) = std::fs::create_dir_all(d)
        {
            panic!("cannot create {}: {e}", d.display());
        }
        write_file(&p, body);
        set_mode(&p, 0o755);
        p
    }

    fn host(&self, i: usize) -> usize {
        usize::from(self.topo.base) + i
    }

    /// Router `i`'s own address on eth0.
    pub fn host_ip(&self, i: usize) -> String {
        format!("10.99.{}.{}", self.topo.net, self.host(i))
    }

    /// The client's address (10.99.{net}.250).
    pub fn client_ip(&self) -> String {
        format!("10.99.{}.250", self.topo.net)
    }

    /// Router `i`'s namespace.
    pub fn ns(&self, i: usize) -> String {
        assert!((1..=self.n).contains(&i), "no router {i} in this lab");
        format!("{}r{i}", self.prefix)
    }

    /// The switch namespace.
    pub fn sw(&self) -> String {
        format!("{}sw", self.prefix)
    }

    /// The client namespace (exists after `add_client`).
    pub fn client_ns(&self) -> String {
        format!("{}cl", self.prefix)
    }

    /// Adds a client host on the bridge at CLIENT_IP that accepts gratuitous ARP into its
    /// neighbour table, so `client_neigh` shows who answers for an address.
    pub fn add_client(&mut self) {
        let ns = self.client_ns();
        self.add_ns(&ns);
        self.plug_in(&ns, "pc", &self.client_ip(), CLIENT_MAC);
        let r = run(
            &t().ip,
            &[
                "netns",
                "exec",
                &ns,
                "sh",
                "-c",
                "echo 1 > /proc/sys/net/ipv4/conf/eth0/arp_accept",
            ],
        );
        assert!(r.ok(), "cannot set arp_accept: {}", r.stderr);
    }

    /// Gives the client CLIENT_IP6/64 too (without DAD: usable at once).
    pub fn add_client6(&self) {
        let addr = format!("{CLIENT_IP6}/64");
        let r = self.client_exec(&["ip", "addr", "add", &addr, "dev", "eth0", "nodad"]);
        assert!(r.ok(), "cannot give the client {addr}: {}", r.stderr);
    }

    /// The MAC the client's neighbour table has for `ip`, if any.
    pub fn client_neigh(&self, ip: &str) -> Option<String> {
        let r = run(
            &t().ip,
            &[
                "-n",
                &self.client_ns(),
                "neigh",
                "show",
                "to",
                ip,
                "dev",
                "eth0",
            ],
        );
        let words: Vec<&str> = r.stdout.split_whitespace().collect();
        let at = words.iter().position(|w| *w == "lladdr")?;
        words.get(at + 1).map(|s| s.to_string())
    }

    /// Runs `argv` in router `i`'s namespace (20 s bound).
    pub fn exec(&self, i: usize, argv: &[&str]) -> Ran {
        exec_in(&self.ns(i), argv)
    }

    /// Runs `argv` in the client namespace (20 s bound).
    pub fn client_exec(&self, argv: &[&str]) -> Ran {
        exec_in(&self.client_ns(), argv)
    }

    /// IPv4 addresses on router `i`'s eth0, as "ADDR/LEN".
    pub fn addrs(&self, i: usize) -> Vec<String> {
        self.addrs_on(i, "eth0")
    }

    /// IPv4 addresses on router `i`'s `dev`, as "ADDR/LEN".
    pub fn addrs_on(&self, i: usize, dev: &str) -> Vec<String> {
        let r = run(
            &t().ip,
            &["-n", &self.ns(i), "-4", "-o", "addr", "show", "dev", dev],
        );
        let mut out = Vec::new();
        for line in r.stdout.lines() {
            let mut w = line.split_whitespace();
            while let Some(word) = w.next() {
                if word == "inet" {
                    if let Some(a) = w.next() {
                        out.push(a.to_string());
                    }
                }
            }
        }
        out
    }

    /// IPv6 addresses on router `i`'s `dev` as "ADDR/LEN flags…" (none if there is no `dev`).
    pub fn addrs6_on(&self, i: usize, dev: &str) -> Vec<String> {
        let r = run(
            &t().ip,
            &["-n", &self.ns(i), "-6", "-o", "addr", "show", "dev", dev],
        );
        r.stdout
            .lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace().skip_while(|w| *w != "inet6");
                w.next()?;
                let addr = w.next()?.to_string();
                Some(format!("{addr} {}", w.collect::<Vec<_>>().join(" ")))
            })
            .collect()
    }

    /// True if router `i`'s `dev` has IPv6 address `addr` (any prefix length).
    pub fn has_addr6(&self, i: usize, dev: &str, addr: &str) -> bool {
        self.addrs6_on(i, dev)
            .iter()
            .any(|a| a.split('/').next() == Some(addr))
    }

    pub fn has_vip(&self, i: usize, vip: &str) -> bool {
        self.has_addr(i, "eth0", vip)
    }

    /// True if router `i`'s `dev` has address `addr` (any prefix length).
    pub fn has_addr(&self, i: usize, dev: &str, addr: &str) -> bool {
        self.addrs_on(i, dev)
            .iter()
            .any(|a| a.split('/').next() == Some(addr))
    }

    /// Routers (1-based) whose eth0 has `vip`.
    pub fn holders(&self, vip: &str) -> Vec<usize> {
        (1..=self.n).filter(|&i| self.has_vip(i, vip)).collect()
    }

    /// Waits until exactly the routers in `who` hold `vip`.
    pub fn wait_holders(&self, vip: &str, who: &[usize], timeout: Duration) -> bool {
        wait_until(timeout, Duration::from_millis(20), || {
            self.holders(vip) == who
        })
    }

    /// Waits until router `i`, and only it, holds `vip`.
    pub fn wait_master(&self, vip: &str, i: usize, timeout: Duration) -> bool {
        self.wait_holders(vip, &[i], timeout)
    }

    /// Samples the holders of `vip` for `dur`; `Err(holders)` on the first sample that differs
    /// from `who`.
    pub fn steady(&self, vip: &str, who: &[usize], dur: Duration) -> Result<(), Vec<usize>> {
        let end = Instant::now() + dur;
        while Instant::now() < end {
            let h = self.holders(vip);
            if h != who {
                return Err(h);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// Plugs router `i` into the bridge or pulls its cable (its eth0 stays up, nothing passes).
    pub fn port(&self, i: usize, up: bool) {
        let state = if up { "up" } else { "down" };
        must(
            &t().ip,
            &["-n", &self.sw(), "link", "set", &format!("p{i}"), state],
        );
    }

    /// Drops VRRP sent to a multicast group (224.0.0.0/4, ff00::/8) on the bridge; unicast
    /// adverts and everything else still pass. Undo with `allow_multicast`.
    pub fn drop_multicast(&self) {
        let rules = "table bridge vrrplab {\n\
             \x20   chain drop_vrrp {\n\
             \x20       type filter hook forward priority 0; policy accept;\n\
             \x20       ip protocol 112 ip daddr 224.0.0.0/4 drop\n\
             \x20       ip6 nexthdr 112 ip6 daddr ff00::/8 drop\n\
             \x20   }\n\
             }\n";
        let file = self.write(&format!("drop-{}.nft", self.next()), rules);
        must(
            &t().ip,
            &[
                "netns",
                "exec",
                &self.sw(),
                &t().nft.display().to_string(),
                "-f",
                &file.display().to_string(),
            ],
        );
    }

    pub fn allow_multicast(&self) {
        let nft = t().nft.display().to_string();
        must(
            &t().ip,
            &[
                "netns",
                "exec",
                &self.sw(),
                &nft,
                "delete",
                "table",
                "bridge",
                "vrrplab",
            ],
        );
    }

    /// Starts tcpdump on the bridge with a BPF `filter` ("" for all), writing a pcap, for at
    /// most `max`. Returns once tcpdump is listening.
    pub fn capture(&self, filter: &str, max: Duration) -> Capture {
        self.capture_on("br0", &[], filter, max)
    }

    /// `capture` on another interface of the switch, with more tcpdump options: on port
    /// `p{i}` with `-Q in`, what router `i` sent, before the bridge's filters see it.
    pub fn capture_on(&self, iface: &str, opts: &[&str], filter: &str, max: Duration) -> Capture {
        let k = self.next();
        let pcap = self.path(&format!("cap-{k}.pcap"));
        let errlog = self.path(&format!("cap-{k}.log"));
        let secs = max.as_secs().max(1).to_string();
        let mut argv: Vec<String> = vec![
            t().timeout.display().to_string(),
            "-s".into(),
            "INT".into(),
            secs,
            t().tcpdump.display().to_string(),
            "-i".into(),
            iface.into(),
            "-n".into(),
            "-U".into(),
            // Hand each packet over at once, or a stop can lose the last ring block.
            "--immediate-mode".into(),
            // Stay root: a dropped-privilege tcpdump may not write into our directory.
            "-Z".into(),
            "root".into(),
            "-w".into(),
            pcap.display().to_string(),
        ];
        argv.extend(opts.iter().map(|o| o.to_string()));
        argv.extend(filter.split_whitespace().map(str::to_string));
        let child = spawn_in(&self.sw(), &argv, &errlog);
        let mut cap = Capture {
            child,
            pcap,
            errlog,
            stopped: false,
        };
        cap.wait_ready();
        cap
    }

    /// Starts the daemon under test on router `i`: vrrpd, or keepalived when
    /// VRRPD_LAB_SUBJECT=keepalived.
    pub fn dut(&self, i: usize, config: &str) -> Daemon {
        self.daemon(subject(), i, config)
    }

    pub fn daemon(&self, kind: Kind, i: usize, config: &str) -> Daemon {
        match kind {
            Kind::Vrrpd => self.vrrpd(i, config),
            Kind::Keepalived => self.keepalived(i, config),
            Kind::Frr => panic!("FRR is configured from an FrrVr: use Lab::frr"),
        }
    }

    /// `vrrpd -n -l -D -f CONF -p PIDFILE` on router `i`, output to a log file.
    pub fn vrrpd(&self, i: usize, config: &str) -> Daemon {
        self.vrrpd_with(i, config, Start::default())
    }

    /// `vrrpd` with a pidfile of the caller's choosing (to test the pidfile lock).
    pub fn vrrpd_pidfile(&self, i: usize, config: &str, pidfile: &Path) -> Daemon {
        let how = Start {
            pidfile: Some(pidfile),
            ..Start::default()
        };
        self.vrrpd_with(i, config, how)
    }

    /// vrrpd on router `i`, started as `how` says.
    pub fn vrrpd_with(&self, i: usize, config: &str, how: Start) -> Daemon {
        let k = self.next();
        let conf = self.write(&format!("d{k}-r{i}-vrrpd.conf"), config);
        let log = self.path(&format!("d{k}-r{i}-vrrpd.log"));
        let pidfile = match how.pidfile {
            Some(p) => p.to_path_buf(),
            None => self.path(&format!("d{k}-r{i}-vrrpd.pid")),
        };
        let mut argv: Vec<String> = how.wrapper.iter().map(|w| w.to_string()).collect();
        argv.extend([vrrpd_bin().into(), "-n".into(), "-l".into()]);
        if !how.quiet {
            argv.push("-D".into());
        }
        argv.extend([
            "-f".into(),
            conf.display().to_string(),
            "-p".into(),
            pidfile.display().to_string(),
        ]);
        self.start(Kind::Vrrpd, i, &argv, conf, log, pidfile, None)
    }

    /// keepalived (VRRP only) in the foreground on router `i`, logging to the console, with
    /// its own pidfiles so several run side by side. `-R`: a killed VRRP child stays dead.
    pub fn keepalived(&self, i: usize, config: &str) -> Daemon {
        let k = self.next();
        let stem = format!("d{k}-r{i}-keepalived");
        let conf = self.write(&format!("{stem}.conf"), config);
        let log = self.path(&format!("{stem}.log"));
        let pid = self.path(&format!("{stem}.pid"));
        let vrrp_pid = self.path(&format!("{stem}.vrrp.pid"));
        let p = |p: &Path| p.display().to_string();
        let argv: Vec<String> = vec![
            // Its state dumps (keepalived.json, .data, .stats) in the lab, not in the shared /tmp.
            "env".into(),
            format!("TMPDIR={}", self.dir.display()),
            t().keepalived.display().to_string(),
            "--dont-fork".into(),
            "--log-console".into(),
            "--log-detail".into(),
            "--no-syslog".into(),
            "--vrrp".into(),
            "--no_bfd".into(),
            "--dont-respawn".into(),
            "--use-file".into(),
            p(&conf),
            "--pid".into(),
            p(&pid),
            "--vrrp_pid".into(),
            p(&vrrp_pid),
            "--checkers_pid".into(),
            p(&self.path(&format!("{stem}.checkers.pid"))),
            "--bfd_pid".into(),
            p(&self.path(&format!("{stem}.bfd.pid"))),
        ];
        self.start(Kind::Keepalived, i, &argv, conf, log, pid, Some(vrrp_pid))
    }

    #[allow(clippy::too_many_arguments)]
    fn start(
        &self,
        kind: Kind,
        i: usize,
        argv: &[String],
        conf: PathBuf,
        log: PathBuf,
        pidfile: PathBuf,
        vrrp_pidfile: Option<PathBuf>,
    ) -> Daemon {
        let child = spawn_in(&self.ns(i), argv, &log);
        if let Ok(mut r) = self.registry.lock() {
            r.push(child.id());
        }
        Daemon {
            kind,
            router: i,
            child,
            log,
            conf,
            pidfile,
            vrrp_pidfile,
            registry: self.registry.clone(),
            exited: None,
        }
    }

    /// Runs vrrpd to completion in router `i`'s namespace (e.g. `-t -f FILE`), 20 s bound.
    pub fn vrrpd_run(&self, i: usize, args: &[&str]) -> Ran {
        let ns = self.ns(i);
        let mut argv = vec!["netns", "exec", ns.as_str(), vrrpd_bin()];
        argv.extend_from_slice(args);
        run_for(&t().ip, &argv, Duration::from_secs(20))
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Ok(pids) = self.registry.lock() {
            for &p in pids.iter() {
                sigkill(p);
            }
        }
        for ns in self.namespaces.iter().rev() {
            kill_netns(ns);
            let _ = run(&t().ip, &["netns", "del", ns]);
        }
        if std::thread::panicking() || std::env::var_os("VRRPD_LAB_KEEP").is_some() {
            eprintln!("lab {}: files kept in {}", self.prefix, self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn ip_in(ns: &str, args: &[&str]) -> String {
    let mut all = vec!["-n", ns];
    all.extend_from_slice(args);
    must(&t().ip, &all).stdout
}

fn exec_in(ns: &str, argv: &[&str]) -> Ran {
    let mut args = vec!["netns", "exec", ns];
    args.extend_from_slice(argv);
    run(&t().ip, &args)
}

/// Names of all network namespaces on the machine.
pub fn netns_list() -> Vec<String> {
    let r = run(&t().ip, &["netns", "list"]);
    r.stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

/// SIGKILLs every process in namespace `ns` (ours by construction) and waits for them.
fn kill_netns(ns: &str) {
    let r = run(&t().ip, &["netns", "pids", ns]);
    let pids: Vec<u32> = r
        .stdout
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    for &p in &pids {
        sigkill(p);
    }
    for &p in &pids {
        wait_gone(p, Duration::from_secs(5));
    }
}

/// Deletes namespaces an earlier run with `prefix` left behind: `{prefix}sw`, `{prefix}cl`,
/// `{prefix}rN`. Prefixes are letters only, so no other prefix can produce these names.
fn delete_stale(prefix: &str) {
    let r = run(&t().ip, &["netns", "list"]);
    for line in r.stdout.lines() {
        let Some(name) = line.split_whitespace().next() else {
            continue;
        };
        let Some(rest) = name.strip_prefix(prefix) else {
            continue;
        };
        let ours = rest == "sw"
            || rest == "cl"
            || rest
                .strip_prefix('r')
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
        if ours {
            kill_netns(name);
            let _ = run(&t().ip, &["netns", "del", name]);
        }
    }
}

fn lock_file(path: &Path) -> File {
    let f = match File::create(path) {
        Ok(f) => f,
        Err(e) => panic!("cannot create {}: {e}", path.display()),
    };
    // SAFETY: flock on a descriptor we own; blocks until another run with this prefix ends.
    let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(rc, 0, "flock {} failed", path.display());
    f
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)) {
        panic!("cannot chmod {}: {e}", path.display());
    }
}

fn write_file(path: &Path, text: &str) {
    if let Err(e) = std::fs::write(path, text) {
        panic!("cannot write {}: {e}", path.display());
    }
}
