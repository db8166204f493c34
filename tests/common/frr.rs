//! FRRouting (Debian's frr 8.4.4: `zebra` + `vrrpd` from /usr/lib/frr) as a lab router, the
//! second independent VRRP implementation the interop tests run against.
//!
//! `lab.frr(i, &FrrVr::v3(200))` starts zebra, then vrrpd, in router `i`'s namespace, each
//! with its own config, pidfile, vty directory and zserv socket under the lab directory, so
//! several FRR routers run side by side. Both PIDs are tracked like every lab daemon's and
//! killed on drop, also when the test panics.
//!
//! FRR does not move addresses: as its doc/user/vrrp.rst says, each virtual router needs a
//! macvlan (bridge mode) on the base interface carrying the virtual MAC, 00:00:5e:00:01:VRID
//! for IPv4 and 00:00:5e:00:02:VRID for IPv6, with `addrgenmode random` (a link-local derived
//! from the shared MAC would be the same on every router and break the IPv6 election), and
//! the VIPs on it. FRR then keeps the macvlan `protodown on` while backup and turns it off as
//! master. So "FRR holds the VIP" means: its macvlan is not protodown (`Frr::is_master`).
//! The harness makes them (`vrrp4-VRID`, `vrrp6-VRID`) before vrrpd starts, protodown on.
//!
//! For IPv6 use `FrrVr::v6(prio)` (VIP fd99::100, VRID 51) or put addresses in `vips6`; the
//! IPv6 router's advert source is its macvlan's random link-local (`Frr::link_local`).
//! Under CI=true a missing FRR fails the test (`frr_available`); elsewhere it skips.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::daemon::Kind;
use super::run::run;
use super::tools::t;
use super::{Daemon, Lab, wait_until};

const ZEBRA: &str = "/usr/lib/frr/zebra";
const VRRPD: &str = "/usr/lib/frr/vrrpd";

/// The IPv6 VIP FRR scenarios protect (the IPv4 one is `VIP`).
pub const VIP6: &str = "fd99::100";

/// True if FRR's zebra and vrrpd are installed. When they are not: a panic under CI=true
/// (package `frr`), otherwise "skipped: …" and false.
pub fn frr_available() -> bool {
    let ok = [ZEBRA, VRRPD].iter().all(|p| Path::new(p).exists());
    if !ok {
        let what = "FRR interop tests need /usr/lib/frr/zebra and vrrpd (Debian package frr)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{what}");
        eprintln!("skipped: {what}");
    }
    ok
}

/// Which family of a virtual router.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Af {
    V4,
    V6,
}

/// One FRR virtual router on eth0 (`vrrp VRID …` lines in `interface eth0`).
#[derive(Clone, Debug)]
pub struct FrrVr {
    pub vrid: u8,
    /// 2 or 3. FRR's VRRPv2 has no authentication (it sends auth type 0).
    pub version: u8,
    pub priority: u8,
    /// Advertisement interval in milliseconds (FRR takes multiples of 10).
    pub advert_ms: u32,
    pub preempt: bool,
    /// IPv4 VIPs (addresses without a prefix; the macvlan gets them as /24).
    pub vips4: Vec<String>,
    /// IPv6 VIPs (addresses without a prefix; the macvlan gets them as /64).
    pub vips6: Vec<String>,
}

impl FrrVr {
    /// VRRPv3 over IPv4, VRID 51, 100 ms adverts, VIP 10.99.0.100: FRR's twin of `Vi::v3`.
    pub fn v3(priority: u8) -> FrrVr {
        FrrVr {
            vrid: 51,
            version: 3,
            priority,
            advert_ms: 100,
            preempt: true,
            vips4: vec![super::VIP.to_string()],
            vips6: Vec::new(),
        }
    }

    /// VRRPv3 over IPv6, VRID 51, 100 ms adverts, VIP fd99::100.
    pub fn v6(priority: u8) -> FrrVr {
        FrrVr {
            vips4: Vec::new(),
            vips6: vec![VIP6.to_string()],
            ..FrrVr::v3(priority)
        }
    }

    /// VRRPv2, 1 s adverts, no authentication (FRR has none), VIP 10.99.0.100.
    pub fn v2(priority: u8) -> FrrVr {
        FrrVr {
            version: 2,
            advert_ms: 1000,
            ..FrrVr::v3(priority)
        }
    }

    /// The `frr.conf` text vrrpd reads.
    pub fn render(&self) -> String {
        let id = self.vrid;
        let mut s = String::from("! written by the vrrpd test lab\nlog stdout debugging\n");
        s.push_str("!\ninterface eth0\n");
        s.push_str(&format!(" vrrp {id} version {}\n", self.version));
        s.push_str(&format!(" vrrp {id} priority {}\n", self.priority));
        s.push_str(&format!(
            " vrrp {id} advertisement-interval {}\n",
            self.advert_ms
        ));
        if !self.preempt {
            s.push_str(&format!(" no vrrp {id} preempt\n"));
        }
        for v in &self.vips4 {
            s.push_str(&format!(" vrrp {id} ip {v}\n"));
        }
        for v in &self.vips6 {
            s.push_str(&format!(" vrrp {id} ipv6 {v}\n"));
        }
        s.push_str("!\n");
        s
    }
}

/// The macvlan FRR uses for VRID `vrid` in family `af`, as its docs name them.
pub fn macvlan(af: Af, vrid: u8) -> String {
    match af {
        Af::V4 => format!("vrrp4-{vrid}"),
        Af::V6 => format!("vrrp6-{vrid}"),
    }
}

/// The virtual MAC of `vrid` (RFC 5798 section 7.3).
pub fn virtual_mac(af: Af, vrid: u8) -> String {
    let fam = match af {
        Af::V4 => 1,
        Af::V6 => 2,
    };
    format!("00:00:5e:00:{fam:02x}:{vrid:02x}")
}

/// zebra and vrrpd running in one router namespace. Dropping it kills both.
pub struct Frr {
    pub router: usize,
    pub vr: FrrVr,
    /// FRR's vrrpd: `kill9`/`term` it to crash or stop the virtual router.
    pub vrrpd: Daemon,
    pub zebra: Daemon,
    ns: String,
    dir: PathBuf,
}

impl Lab {
    /// Starts FRR on router `i` with virtual router `vr` on eth0: the macvlans with the
    /// virtual MACs and the VIPs, then zebra, then vrrpd once zebra listens. Check
    /// `frr_available()` first.
    pub fn frr(&self, i: usize, vr: &FrrVr) -> Frr {
        let ns = self.ns(i);
        let k = self.next();
        let dir = self.path(&format!("frr{k}-r{i}"));
        if let Err(e) = std::fs::create_dir_all(&dir) {
            panic!("cannot create {}: {e}", dir.display());
        }
        // The daemons drop to user frr (its vty group is frrvty): they write their pidfiles
        // and sockets here.
        let r = run(Path::new("chown"), &["frr:frr", &dir.display().to_string()]);
        assert!(r.ok(), "chown frr {}: {}", dir.display(), r.stderr);

        for (af, vips, len) in [(Af::V4, &vr.vips4, 24), (Af::V6, &vr.vips6, 64)] {
            if vips.is_empty() {
                continue;
            }
            let dev = macvlan(af, vr.vrid);
            // A restarted FRR gets a fresh one (the last FRR's may still be there).
            let _ = run(&t().ip, &["-n", &ns, "link", "del", "dev", &dev]);
            // addrgenmode must be set before the link comes up; this kernel refuses it
            // inside `link add`, so it is its own step.
            self.batch(
                &ns,
                &[format!("link add {dev} link eth0 type macvlan mode bridge")],
            );
            let mut cmds = vec![
                format!("link set {dev} addrgenmode random"),
                format!("link set {dev} address {}", virtual_mac(af, vr.vrid)),
                format!("link set {dev} protodown on"),
            ];
            if af == Af::V6 {
                // No DAD on the random link-local: adverts go out as soon as FRR is master,
                // not a second or two later (tests stay short; FRR's behaviour is the same).
                let knob = format!("net.ipv6.conf.{dev}.accept_dad=0");
                let r = self.exec(i, &["sysctl", "-q", "-w", &knob]);
                assert!(r.ok(), "sysctl {knob}: {}", r.stderr);
            }
            for v in vips {
                let nodad = if af == Af::V6 { " nodad" } else { "" };
                cmds.push(format!("addr add {v}/{len} dev {dev}{nodad}"));
            }
            cmds.push(format!("link set {dev} up"));
            self.batch(&ns, &cmds);
        }

        let p = |p: &Path| p.display().to_string();
        let zserv = dir.join("zserv.api");
        let common = |conf: &Path, pid: &Path| -> Vec<String> {
            vec![
                "-f".into(),
                p(conf),
                "-i".into(),
                p(pid),
                "--vty_socket".into(),
                p(&dir),
                "-z".into(),
                p(&zserv),
                // No vty TCP port: nothing to bind, nothing shared between routers.
                "-P".into(),
                "0".into(),
                "--log".into(),
                "stdout".into(),
            ]
        };
        let zconf = self.write(&format!("frr{k}-r{i}/zebra.conf"), "! empty\n");
        let zpid = dir.join("zebra.pid");
        let mut argv = vec![ZEBRA.to_string()];
        argv.extend(common(&zconf, &zpid));
        let zlog = dir.join("zebra.log");
        let zebra = self.start(Kind::Frr, i, &argv, zconf, zlog, zpid, None);
        let up = wait_until(Duration::from_secs(10), Duration::from_millis(20), || {
            zserv.exists()
        });
        assert!(
            up,
            "zebra did not open {}:\n{}",
            zserv.display(),
            zebra.log()
        );

        let vconf = self.write(&format!("frr{k}-r{i}/vrrpd.conf"), &vr.render());
        let vpid = dir.join("vrrpd.pid");
        let mut argv = vec![VRRPD.to_string()];
        argv.extend(common(&vconf, &vpid));
        let vlog = dir.join("vrrpd.log");
        let vrrpd = self.start(Kind::Frr, i, &argv, vconf, vlog, vpid, None);
        Frr {
            router: i,
            vr: vr.clone(),
            vrrpd,
            zebra,
            ns,
            dir,
        }
    }
}

impl Frr {
    /// True if FRR is master for family `af`: its macvlan exists, is up and not protodown.
    pub fn is_master(&self, af: Af) -> bool {
        let dev = macvlan(af, self.vr.vrid);
        let r = run(&t().ip, &["-n", &self.ns, "-d", "link", "show", &dev]);
        r.ok() && r.stdout.contains("state UP") && !r.stdout.contains("protodown on")
    }

    /// Waits until FRR's vrrpd logs that family `af` entered `state` ("Master", "Backup").
    pub fn wait_state(&self, af: Af, state: &str, timeout: Duration) -> bool {
        let fam = match af {
            Af::V4 => "[IPv4]",
            Af::V6 => "[IPv6]",
        };
        let to = format!("-> {state}");
        wait_until(timeout, Duration::from_millis(20), || {
            self.vrrpd
                .log()
                .lines()
                .any(|l| l.contains(fam) && l.contains(&to))
        })
    }

    /// The link-local address of FRR's IPv6 macvlan: the source of its IPv6 adverts.
    pub fn link_local(&self) -> Option<String> {
        let dev = macvlan(Af::V6, self.vr.vrid);
        let r = run(
            &t().ip,
            &[
                "-n", &self.ns, "-6", "-o", "addr", "show", "dev", &dev, "scope", "link",
            ],
        );
        r.stdout
            .split_whitespace()
            .skip_while(|w| *w != "inet6")
            .nth(1)
            .map(|a| a.split('/').next().unwrap_or(a).to_string())
    }

    /// Crash: SIGKILL FRR's vrrpd (zebra lives on), so no priority-0 advert goes out and the
    /// macvlan stays as it was.
    pub fn kill9(&mut self) {
        self.vrrpd.kill9();
    }

    /// Graceful stop of vrrpd (SIGTERM): FRR sends priority 0 for each family it was master of.
    pub fn term(&mut self) -> Option<i32> {
        self.vrrpd.term()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Both logs' tails, for failure messages.
    pub fn describe(&self) -> String {
        format!(
            "FRR on r{} (dir {}):\n{}\n{}",
            self.router,
            self.dir.display(),
            super::describe(&self.vrrpd),
            super::describe(&self.zebra)
        )
    }
}

// ---- a mixed pair: FRR on one router, vrrpd on the other, one virtual router ----

/// FRR on router `frr_on` and vrrpd on the other (of two), serving one virtual router of family
/// `af`, router 1 with the higher priority: the steps of the interop scenarios, the same
/// whichever side runs where. FRR is master by its macvlan (not protodown), vrrpd where
/// `holds(i)` (its VIP on the interface).
pub struct Mixed<'a> {
    pub frr: Frr,
    pub vrrpd: Daemon,
    pub frr_on: usize,
    af: Af,
    lab: &'a Lab,
    start_frr: &'a dyn Fn(usize) -> Frr,
    start_vrrpd: &'a dyn Fn(usize) -> Daemon,
    holds: &'a dyn Fn(usize) -> bool,
}

impl<'a> Mixed<'a> {
    /// The election: router 1 starts alone and must be master within `first`, then router 2
    /// starts and must be backup within 5 s (FRR by its log, vrrpd by "Entering BACKUP STATE").
    pub fn elect(
        lab: &'a Lab,
        frr_on: usize,
        af: Af,
        first: Duration,
        start_frr: &'a dyn Fn(usize) -> Frr,
        start_vrrpd: &'a dyn Fn(usize) -> Daemon,
        holds: &'a dyn Fn(usize) -> bool,
    ) -> Mixed<'a> {
        let why = |f: &Frr, d: &Daemon| format!("{}\n{}", f.describe(), super::describe(d));
        let five = Duration::from_secs(5);
        let (frr, vrrpd) = if frr_on == 1 {
            let f = start_frr(1);
            assert!(f.wait_state(af, "Master", first), "{}", f.describe());
            let d = start_vrrpd(2);
            assert!(d.wait_log("Entering BACKUP STATE", five), "{}", why(&f, &d));
            (f, d)
        } else {
            let d = start_vrrpd(1);
            let ok = wait_until(first, Duration::from_millis(20), || holds(1) && !holds(2));
            assert!(ok, "{}", super::describe(&d));
            let f = start_frr(2);
            assert!(f.wait_state(af, "Backup", five), "{}", why(&f, &d));
            (f, d)
        };
        Mixed {
            frr,
            vrrpd,
            frr_on,
            af,
            lab,
            start_frr,
            start_vrrpd,
            holds,
        }
    }

    /// The routers that are master now.
    pub fn masters(&self) -> Vec<usize> {
        (1..=self.lab.n)
            .filter(|&i| {
                if i == self.frr.router {
                    self.frr.is_master(self.af)
                } else {
                    (self.holds)(i)
                }
            })
            .collect()
    }

    /// Waits until exactly the routers in `who` are master.
    pub fn wait_masters(&self, who: &[usize], timeout: Duration) -> bool {
        wait_until(timeout, Duration::from_millis(20), || self.masters() == who)
    }

    /// Checks for `dur` that exactly the routers in `who` are master; the first other set seen
    /// is the error.
    pub fn steady(&self, who: &[usize], dur: Duration) -> Result<(), Vec<usize>> {
        let end = std::time::Instant::now() + dur;
        while std::time::Instant::now() < end {
            let m = self.masters();
            if m != who {
                return Err(m);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// Graceful stop of router 1 (priority 0): FRR's exit status is checked at once, vrrpd is
    /// sent SIGTERM and checked by [`Mixed::reap_r1`].
    pub fn stop_r1(&mut self) {
        if self.frr_on == 1 {
            assert_eq!(self.frr.term(), Some(0), "{}", self.frr.describe());
        } else {
            self.vrrpd.sigterm();
        }
    }

    /// After a stop: a vrrpd on router 1 exited with status 0.
    pub fn reap_r1(&mut self) {
        if self.frr_on == 2 {
            assert_eq!(
                self.vrrpd.term(),
                Some(0),
                "{}",
                super::describe(&self.vrrpd)
            );
        }
    }

    /// Graceful stop of router `i`, waiting for it to exit: its status must be 0.
    pub fn term(&mut self, i: usize) {
        if i == self.frr_on {
            assert_eq!(self.frr.term(), Some(0), "{}", self.frr.describe());
        } else {
            let d = &mut self.vrrpd;
            assert_eq!(d.term(), Some(0), "{}", super::describe(d));
        }
    }

    /// Router 1 starts again (FRR: the old zebra goes first, one per namespace at a time).
    pub fn restart_r1(&mut self) {
        if self.frr_on == 1 {
            self.frr.zebra.term();
            self.frr = (self.start_frr)(1);
        } else {
            self.vrrpd = (self.start_vrrpd)(1);
        }
    }

    /// Crash of router 1: SIGKILL, no priority-0 advert.
    pub fn crash_r1(&mut self) {
        if self.frr_on == 1 {
            self.frr.kill9();
        } else {
            self.vrrpd.kill9();
        }
    }

    /// Both sides' logs, for failure messages.
    pub fn why(&self) -> String {
        format!("{}\n{}", self.frr.describe(), super::describe(&self.vrrpd))
    }
}
