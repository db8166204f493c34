//! track_process end to end: a router pair (namespaces "pk…") tracks a process the test starts
//! (a copy of sleep or sh under a name of its own, so nothing else on the machine matches).
//! vrrpd runs inside network namespaces here, where the kernel's process connector refuses
//! subscriptions (ECONNREFUSED): these tests exercise the pidfd + /proc scan path; the connector
//! path is covered by the unit tests in src/sys/connector.rs, live where they run in the
//! initial namespace.

mod common;

use std::fs;
use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Daemon, Lab, Topo};

const WAIT: Duration = Duration::from_secs(20);

fn eventually(what: &str, limit: Duration, check: impl FnMut() -> bool) {
    assert!(
        common::wait_until(limit, Duration::from_millis(10), check),
        "timed out after {limit:?}: {what}"
    );
}

fn two_routers(prefix: &str, net: u8) -> Option<Lab> {
    Lab::with(prefix, Topo::routers(2).net(net).base(0))
}

fn start(lab: &Lab, i: usize, conf: &str) -> Daemon {
    let path = lab.write(&format!("check-r{i}.conf"), conf);
    let check = lab.vrrpd_run(i, &["-t", "-f", &path.display().to_string()]);
    assert!(check.ok(), "config r{i} rejected:\n{}", check.stderr);
    lab.vrrpd(i, conf)
}

fn vip_on(lab: &Lab, yes: usize, no: usize, addr: &str) {
    eventually(&format!("{addr} on r{yes} only"), WAIT, || {
        lab.has_addr(yes, "eth0", addr) && !lab.has_addr(no, "eth0", addr)
    });
}

fn wait_log(d: &Daemon, needle: &str) {
    eventually(
        &format!("log of r{} contains {needle:?}", d.router),
        WAIT,
        || d.log().contains(needle),
    );
}

fn instance(vrid: u8, prio: u8, vip: &str, advert: &str, extra: &str) -> String {
    format!(
        "global_defs {{\n    vrrp_version 3\n}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id {vrid}
    priority {prio}
    advert_int {advert}
    virtual_ipaddress {{
        {vip}/24 dev eth0
    }}
{extra}
}}
"
    )
}

/// A copy of `bin` at `dir/name`: its processes are called `name`.
fn program(dir: &Path, bin: &str, name: &str) -> PathBuf {
    let to = dir.join(name);
    fs::copy(bin, &to).unwrap();
    fs::set_permissions(&to, fs::Permissions::from_mode(0o755)).unwrap();
    to
}

/// Processes the test started; killed when dropped, whatever happened.
struct Procs(Vec<Child>);

impl Procs {
    fn spawn(&mut self, prog: &Path, args: &[&str]) -> u32 {
        let mut tries = 0;
        let c = loop {
            let r = Command::new(prog)
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            match r {
                Ok(c) => break c,
                // A just-copied program is "busy" while another test thread's fork still
                // holds the copy's write descriptor (until that child's exec closes it).
                Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && tries < 100 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => panic!("cannot start {}: {e}", prog.display()),
            }
        };
        let pid = c.id();
        self.0.push(c);
        pid
    }

    fn kill(&mut self, pid: u32) {
        if let Some(k) = self.0.iter().position(|c| c.id() == pid) {
            let mut c = self.0.swap_remove(k);
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Procs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Kill the tracked process → the master faults with a priority-0 advert and the VIP is on
/// the backup within a fraction of a second (Skew_Time, not a polling interval plus
/// Master_Down_Interval); start it again → the VIP comes back (preempt).
#[test]
fn process_exit_moves_vip_to_backup_and_restart_brings_it_back() {
    let Some(lab) = two_routers("pkx", 15) else {
        return;
    };
    let svc = program(lab.dir(), "/bin/sleep", "pkx-svc");
    let mut procs = Procs(Vec::new());
    let pid = procs.spawn(&svc, &["600"]);

    let track = "vrrp_track_process svc {\n    process pkx-svc\n}\n";
    let conf_a = format!(
        "{track}{}",
        instance(
            61,
            150,
            "10.99.15.100",
            "1",
            "    track_process {\n        svc\n    }"
        )
    );
    let conf_b = instance(61, 100, "10.99.15.100", "1", "");
    let da = start(&lab, 1, &conf_a);
    let db = start(&lab, 2, &conf_b);
    vip_on(&lab, 1, 2, "10.99.15.100");
    wait_log(&db, "(VI_1) Entering BACKUP STATE");
    let log = da.log();
    assert!(log.contains("process connector unavailable"), "{log}");
    assert!(
        log.contains("VRRP_Track_Process(svc) 1 running, up"),
        "{log}"
    );

    let t = Instant::now();
    procs.kill(pid);
    eventually(
        "VIP on the backup after the kill",
        Duration::from_secs(5),
        || lab.has_addr(2, "eth0", "10.99.15.100") && !lab.has_addr(1, "eth0", "10.99.15.100"),
    );
    let moved = t.elapsed();
    println!("process exit -> VIP on backup: {moved:?}");
    // advert_int 1: Master_Down_Interval would be 3.6 s, Skew_Time 0.61 s. Polling plus
    // Master_Down_Interval would be over 3.6 s; generous for a loaded machine.
    assert!(moved < Duration::from_millis(2500), "took {moved:?}");
    wait_log(&da, "(VI_1) Entering FAULT STATE");

    wait_log(&da, "VRRP_Track_Process(svc) is now down (0 running)");

    // Started again, this time in a PID namespace of its own: /proc shows it all the same.
    let t = Instant::now();
    // util-linux is essential in Debian: no skip.
    let unshare = ["/usr/bin/unshare", "/bin/unshare"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("unshare (util-linux)");
    let svc_s = svc.display().to_string();
    let holder = procs.spawn(
        &unshare,
        &["--pid", "--fork", "--kill-child", &svc_s, "600"],
    );
    vip_on(&lab, 1, 2, "10.99.15.100");
    println!("process restart -> VIP back on master: {:?}", t.elapsed());
    wait_log(&da, "VRRP_Track_Process(svc) is now up (1 running)");
    // And its exit is seen at once too.
    let t = Instant::now();
    procs.kill(holder);
    vip_on(&lab, 2, 1, "10.99.15.100");
    println!(
        "exit in another PID namespace -> VIP on backup: {:?}",
        t.elapsed()
    );
    procs.spawn(&svc, &["600"]);
    vip_on(&lab, 1, 2, "10.99.15.100");
    let dump = {
        da.usr1();
        eventually("state dump", WAIT, || {
            da.log().contains("track_process via")
        });
        da.log()
    };
    let line = dump
        .lines()
        .find(|l| l.contains("track_process via"))
        .unwrap_or_default()
        .to_string();
    println!("{line}");
    assert!(
        line.contains("via pidfd+scan") && line.contains("svc 1 running up"),
        "{line}"
    );
}

/// quorum 2 with one process running: the tracker is down, so the router stays in FAULT and
/// the lower-priority backup holds the VIP; a second process makes it master.
#[test]
fn quorum_two_with_one_running_keeps_the_router_down() {
    let Some(lab) = two_routers("pkq", 16) else {
        return;
    };
    let svc = program(lab.dir(), "/bin/sleep", "pkq-svc");
    let mut procs = Procs(Vec::new());
    procs.spawn(&svc, &["600"]);
    let track = "vrrp_track_process svc {\n    process pkq-svc\n    quorum 2\n}\n";
    let conf_a = format!(
        "{track}{}",
        instance(
            62,
            150,
            "10.99.16.100",
            "0.5",
            "    track_process {\n        svc\n    }"
        )
    );
    let conf_b = instance(62, 100, "10.99.16.100", "0.5", "");
    let da = start(&lab, 1, &conf_a);
    let _db = start(&lab, 2, &conf_b);
    vip_on(&lab, 2, 1, "10.99.16.100");
    wait_log(&da, "VRRP_Track_Process(svc) 1 running, down");
    wait_log(&da, "(VI_1) Entering FAULT STATE");
    if let Err(who) = lab.steady("10.99.16.100", &[2], Duration::from_secs(3)) {
        panic!("VIP left the backup: holders {who:?}");
    }
    assert!(!da.log().contains("Entering MASTER STATE"));
    // The second one is found by the next scan (1 s), then the higher priority preempts.
    procs.spawn(&svc, &["600"]);
    vip_on(&lab, 1, 2, "10.99.16.100");
}

/// A tracked process forking thousands of short-lived children a second while the router is
/// master: adverts keep their interval (gaps under 2 × advert_int) and the counters move.
#[test]
fn fork_storm_of_the_tracked_name_does_not_stall_adverts() {
    let Some(lab) = two_routers("pkf", 17) else {
        return;
    };
    let sh = program(lab.dir(), "/bin/sh", "pkf-storm");
    let mut procs = Procs(Vec::new());
    // Each `(:)` is a fork of pkf-storm that exits at once without exec.
    procs.spawn(&sh, &["-c", "while :; do (:); done"]);
    let track = "vrrp_track_process storm {\n    process pkf-storm\n    weight -10\n}\n";
    let conf = format!(
        "{track}{}",
        instance(
            63,
            150,
            "10.99.17.100",
            "1",
            "    track_process {\n        storm\n    }"
        )
    );
    let da = start(&lab, 1, &conf);
    wait_log(&da, "(VI_1) Entering MASTER STATE");
    let end = Instant::now() + Duration::from_secs(8);
    let cap = common::listen(
        &lab.ns(2),
        "eth0",
        Ipv4Addr::new(10, 99, 17, 1),
        move || Instant::now() >= end,
    );
    let adverts: Vec<Instant> = cap.join().unwrap().into_iter().map(|h| h.at).collect();
    let gaps: Vec<Duration> = adverts.windows(2).map(|w| w[1] - w[0]).collect();
    println!("advert gaps under the fork storm: {gaps:?}");
    assert!(adverts.len() >= 6, "only {} adverts in 8 s", adverts.len());
    for g in &gaps {
        assert!(
            *g < Duration::from_secs(2),
            "advert gap {g:?} (all: {gaps:?})"
        );
    }
    da.usr1();
    eventually("state dump", WAIT, || {
        da.log().contains("track_process via")
    });
    let log = da.log();
    let line = log
        .lines()
        .find(|l| l.contains("track_process via"))
        .unwrap_or_default();
    println!("{line}");
    // Still master, still tracked: the parent keeps running.
    assert!(!log.contains("Entering FAULT STATE"), "{log}");
    assert!(line.contains("storm"), "{line}");
}

/// vrrpd in the test's own network namespace (the initial one, on a host) with one instance on
/// `lo` and its VIP in 127.0.0.0/8: the way to run the process connector path end to end. The
/// VIP is removed whatever happens.
struct OnLo {
    vip: &'static str,
    log: PathBuf,
    pid: u32,
}

impl OnLo {
    fn start(
        lab: &Lab,
        procs: &mut Procs,
        vrid: u8,
        vip: &'static str,
        track: &str,
        name: &str,
    ) -> OnLo {
        let conf = lab.write(
            &format!("lo-{vrid}.conf"),
            &format!(
                "{track}{}",
                instance(
                    vrid,
                    150,
                    vip,
                    "0.2",
                    &format!("    track_process {{\n        {name}\n    }}")
                )
                .replace("interface eth0", "interface lo")
                .replace(&format!("{vip}/24 dev eth0"), &format!("{vip}/32 dev lo"))
            ),
        );
        let log = lab.path(&format!("lo-{vrid}.log"));
        let out = fs::File::create(&log).unwrap();
        let daemon = Command::new(common::vrrpd_bin())
            .args(["-n", "-l", "-f"])
            .arg(&conf)
            .arg("-p")
            .arg(lab.path(&format!("lo-{vrid}.pid")))
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        let pid = daemon.id();
        procs.0.push(daemon);
        OnLo { vip, log, pid }
    }

    fn has_vip(&self) -> bool {
        Command::new("ip")
            .args(["-4", "-o", "addr", "show", "dev", "lo"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains(&format!("{}/32", self.vip)))
            .unwrap_or(false)
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether the daemon follows processes with the connector (else the fallback).
    fn via_connector(&self) -> bool {
        let log = self.log();
        let yes = log.contains("following processes with the kernel's process connector");
        assert!(
            yes || log.contains("process connector unavailable"),
            "{log}"
        );
        yes
    }

    fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill(2) on the daemon this test started (still its child: the pid is its own).
        unsafe { libc::kill(self.pid as i32, sig) };
    }
}

impl Drop for OnLo {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["addr", "del", &format!("{}/32", self.vip), "dev", "lo"])
            .stderr(Stdio::null())
            .status();
    }
}

/// The process connector path, end to end (where this runs in the initial namespace; elsewhere
/// the same steps check the fallback): killing the tracked process removes the VIP in the same
/// loop turn as the kernel's exit event.
#[test]
fn connector_path_on_loopback() {
    // The lab is only for the gate (root, tools) and the lock that keeps two runs of this
    // test from sharing lo's VRID and address.
    let Some(lab) = Lab::new("pkl", 2) else {
        return;
    };
    let svc = program(lab.dir(), "/bin/sleep", "pkl-svc");
    let mut procs = Procs(Vec::new());
    let pid = procs.spawn(&svc, &["600"]);
    let track = "vrrp_track_process svc {\n    process pkl-svc\n}\n";
    let lo = OnLo::start(&lab, &mut procs, 199, "127.99.15.1", track, "svc");
    eventually("master on lo", WAIT, || {
        lo.log().contains("Entering MASTER STATE") && lo.has_vip()
    });
    let connector = lo.via_connector();

    let t = Instant::now();
    procs.kill(pid);
    eventually("VIP removed from lo", Duration::from_secs(5), || {
        !lo.has_vip()
    });
    let gone = t.elapsed();
    println!("process exit -> VIP removed (connector: {connector}): {gone:?}");
    // The same loop turn as the exit event: milliseconds, not an advert interval.
    assert!(gone < Duration::from_millis(500), "took {gone:?}");
    assert!(
        lo.log().contains("(VI_1) Entering FAULT STATE"),
        "{}",
        lo.log()
    );

    procs.spawn(&svc, &["600"]);
    eventually("master again", WAIT, || lo.has_vip());
    lo.signal(libc::SIGTERM);
    eventually("VIP removed at stop", WAIT, || !lo.has_vip());
}

/// A fork storm of the tracked name through the connector path: adverts keep their 0.2 s
/// cadence (gaps under 2 × advert_int), the counters show the events, nothing is dropped.
#[test]
fn connector_fork_storm_on_loopback_keeps_the_advert_cadence() {
    let Some(lab) = Lab::new("pks", 2) else {
        return;
    };
    let sh = program(lab.dir(), "/bin/sh", "pks-storm");
    let mut procs = Procs(Vec::new());
    let track = "vrrp_track_process storm {\n    process pks-storm\n    weight -10\n}\n";
    procs.spawn(&sh, &["-c", "while :; do (:); done"]);
    let lo = OnLo::start(&lab, &mut procs, 198, "127.99.15.2", track, "storm");
    eventually("master on lo", WAIT, || {
        lo.log().contains("Entering MASTER STATE") && lo.has_vip()
    });
    let connector = lo.via_connector();
    // Our own adverts, as they come back on lo.
    let sock = common::vrrp_socket("lo");
    // SAFETY: a valid NUL-terminated name.
    let lo_index = unsafe { libc::if_nametoindex(c"lo".as_ptr()) };
    sock.join(vrrpd::wire::vrrp::MULTICAST_V4, lo_index)
        .unwrap();
    let mut at = Vec::new();
    let mut buf = [0u8; 2048];
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        let mut pfd = libc::pollfd {
            fd: std::os::fd::AsRawFd::as_raw_fd(&sock),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one live pollfd.
        unsafe { libc::poll(&mut pfd, 1, 50) };
        while let Ok(n) = sock.recv(&mut buf) {
            // VRID 198 only: another test's instance may share lo.
            if n > 21 && buf[0] >> 4 == 4 && buf[(buf[0] & 0xf) as usize * 4 + 1] == 198 {
                at.push(Instant::now());
            }
        }
    }
    let gaps: Vec<Duration> = at.windows(2).map(|w| w[1] - w[0]).collect();
    println!("advert gaps under the fork storm (connector: {connector}): {gaps:?}");
    assert!(at.len() >= 15, "only {} adverts in 5 s", at.len());
    for g in &gaps {
        assert!(
            *g < Duration::from_millis(400),
            "advert gap {g:?} (all: {gaps:?})"
        );
    }
    lo.signal(libc::SIGUSR1);
    eventually("state dump", WAIT, || {
        lo.log().contains("track_process via")
    });
    let log = lo.log();
    let line = log
        .lines()
        .find(|l| l.contains("track_process via"))
        .unwrap_or_default()
        .to_string();
    println!("{line}");
    assert!(!log.contains("Entering FAULT STATE"), "{log}");
    if connector {
        let events: u64 = line
            .split("events ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(events > 1000, "{line}");
    }
    lo.signal(libc::SIGTERM);
    eventually("VIP removed at stop", WAIT, || !lo.has_vip());
}
