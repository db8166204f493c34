//! A VRRP daemon (vrrpd or keepalived) running in the foreground in one router namespace.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::run::{alive, sigkill, signal, wait_gone, wait_timeout};
use super::wait_until;

/// Which implementation a `Daemon` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Vrrpd,
    Keepalived,
    /// One of FRR's daemons (zebra or vrrpd), started by `Lab::frr`.
    Frr,
}

/// PIDs the lab still has to reap; shared between a `Lab` and its daemons.
pub type Registry = Arc<Mutex<Vec<u32>>>;

pub struct Daemon {
    pub kind: Kind,
    /// 1-based router index.
    pub router: usize,
    pub(super) child: Child,
    pub(super) log: PathBuf,
    pub(super) conf: PathBuf,
    pub(super) pidfile: PathBuf,
    /// keepalived's VRRP child writes its PID here; that child is the one sending adverts.
    pub(super) vrrp_pidfile: Option<PathBuf>,
    pub(super) registry: Registry,
    pub(super) exited: Option<ExitStatus>,
}

impl Daemon {
    /// PID of the process we started (keepalived: the parent).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    pub fn conf_path(&self) -> &Path {
        &self.conf
    }

    pub fn pidfile(&self) -> &Path {
        &self.pidfile
    }

    /// Everything the daemon wrote to stdout and stderr so far.
    pub fn log(&self) -> String {
        std::fs::read(&self.log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Lines containing `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.log().lines().filter(|l| l.contains(needle)).count()
    }

    /// Log bytes so far: pass to `log_since` to look only at what comes after a point in time.
    pub fn mark(&self) -> usize {
        std::fs::metadata(&self.log).map_or(0, |m| m.len() as usize)
    }

    pub fn log_since(&self, mark: usize) -> String {
        let all = std::fs::read(&self.log).unwrap_or_default();
        String::from_utf8_lossy(all.get(mark..).unwrap_or_default()).into_owned()
    }

    /// Waits (10 s at most) until this daemon has entered MASTER `n` times and `backup` has
    /// entered BACKUP at least `n` times: `n` instances each elected, or a panic with both logs.
    pub fn wait_elected_over(&self, backup: &Daemon, n: usize) {
        let settled = wait_until(Duration::from_secs(10), Duration::from_millis(20), || {
            self.count("Entering MASTER STATE") == n && backup.count("Entering BACKUP STATE") >= n
        });
        assert!(
            settled,
            "no election:\n{}\n---\n{}",
            self.log(),
            backup.log()
        );
    }

    /// Waits until a log line contains `needle`.
    pub fn wait_log(&self, needle: &str, timeout: Duration) -> bool {
        wait_until(timeout, Duration::from_millis(20), || {
            self.log().contains(needle)
        })
    }

    /// Waits until at least `n` log lines contain `needle`.
    pub fn wait_count(&self, needle: &str, n: usize, timeout: Duration) -> bool {
        wait_until(timeout, Duration::from_millis(20), || {
            self.count(needle) >= n
        })
    }

    /// A field of /proc/PID/status, e.g. "CapEff" (of the process we started).
    pub fn status_field(&self, field: &str) -> Option<String> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let head = format!("{field}:");
        status
            .lines()
            .find_map(|l| l.strip_prefix(&head))
            .map(|v| v.trim().to_string())
    }

    /// Resident memory in KiB and the number of open descriptors, from /proc.
    pub fn resources(&self) -> (u64, usize) {
        let rss = self
            .status_field("VmRSS")
            .and_then(|v| v.trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0);
        let fds = std::fs::read_dir(format!("/proc/{}/fd", self.pid())).map_or(0, |d| d.count());
        (rss, fds)
    }

    /// The PID of keepalived's VRRP child, once it has written its pidfile.
    fn vrrp_child(&self) -> Option<u32> {
        let p = self.vrrp_pidfile.as_ref()?;
        std::fs::read_to_string(p).ok()?.trim().parse().ok()
    }

    /// True until the process has exited.
    pub fn running(&mut self) -> bool {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().ok().flatten();
        }
        self.exited.is_none()
    }

    /// Waits up to `timeout` for the process to exit on its own.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        if self.exited.is_none() {
            self.exited = wait_timeout(&mut self.child, timeout);
        }
        self.exited
    }

    /// Crash: SIGKILL, no goodbye advert, VIPs stay on the interface.
    pub fn kill9(&mut self) {
        if !self.running() {
            return;
        }
        // keepalived's VRRP child owns the protocol; kill it before the parent, whose death it
        // would otherwise notice and answer with a graceful shutdown.
        if let Some(c) = self.vrrp_child() {
            sigkill(c);
            wait_gone(c, Duration::from_secs(5));
        }
        sigkill(self.pid());
        self.exited = self.child.wait().ok();
        self.unregister();
    }

    /// Graceful stop: SIGTERM, wait up to 10 s (then SIGKILL). Returns the exit code, `None` if
    /// it had to be killed or died by a signal.
    pub fn term(&mut self) -> Option<i32> {
        self.term_within(Duration::from_secs(10))
    }

    pub fn term_within(&mut self, timeout: Duration) -> Option<i32> {
        self.stop_within(timeout).and_then(|s| s.code())
    }

    /// SIGTERM, wait up to `timeout` (then SIGKILL). The exit status; `None` if it had to be
    /// killed.
    pub fn stop_within(&mut self, timeout: Duration) -> Option<ExitStatus> {
        if self.running() {
            let child = self.vrrp_child();
            signal(self.pid(), libc::SIGTERM);
            if self.wait_exit(timeout).is_none() {
                self.kill9();
                return None;
            }
            if let Some(c) = child {
                wait_gone(c, timeout);
            }
        }
        self.unregister();
        self.exited
    }

    /// Sends SIGTERM without waiting (to time a hand-over apart from the exit); `term` reaps.
    pub fn sigterm(&self) {
        signal(self.pid(), libc::SIGTERM);
    }

    pub fn usr1(&self) {
        signal(self.pid(), libc::SIGUSR1);
    }

    pub fn hup(&self) {
        signal(self.pid(), libc::SIGHUP);
    }

    /// Any signal (SIGSTOP, SIGCONT, …) to the process we started.
    pub fn signal(&self, sig: libc::c_int) {
        signal(self.pid(), sig);
    }

    /// vrrpd only: SIGUSR1, then the state dump line for `instance` written after it.
    pub fn dump(&self, instance: &str) -> Option<Dump> {
        let mark = self.mark();
        let head = format!("({instance}) state ");
        self.usr1();
        let mut found = None;
        wait_until(Duration::from_secs(5), Duration::from_millis(20), || {
            found = self
                .log_since(mark)
                .lines()
                .find_map(|l| l.find(&head).map(|at| Dump::parse(&l[at + head.len()..])));
            found.is_some()
        });
        found.flatten()
    }

    /// `dump`, panicking (with the log) when no dump line comes.
    pub fn must_dump(&self, instance: &str) -> Dump {
        match self.dump(instance) {
            Some(d) => d,
            None => panic!("no state dump for {instance}: {}", describe(self)),
        }
    }

    fn unregister(&self) {
        if let Ok(mut r) = self.registry.lock() {
            r.retain(|&p| p != self.child.id());
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // A failing test shows what the daemon said (the harness prints captured output).
        if std::thread::panicking() {
            eprintln!("---- {}", describe(self));
        }
        if self.running() {
            self.kill9();
        }
        if let Some(c) = self.vrrp_child()
            && alive(c)
        {
            sigkill(c);
        }
        self.unregister();
    }
}

/// One instance's line of vrrpd's SIGUSR1 dump:
/// `state MASTER priority 150 adverts_rx 12 … dropped len 0 ttl 0 … vrid 0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dump {
    pub state: String,
    pub fields: HashMap<String, u64>,
}

impl Dump {
    /// Parses the text after "(NAME) state ".
    pub fn parse(rest: &str) -> Option<Dump> {
        let mut words = rest.split_whitespace();
        let state = words.next()?.to_string();
        let mut fields = HashMap::new();
        let mut key: Option<&str> = None;
        for w in words {
            match (key, w.parse::<u64>()) {
                (Some(k), Ok(v)) => {
                    fields.insert(k.to_string(), v);
                    key = None;
                }
                // A word with no number after it ("dropped") only labels what follows.
                (_, Err(_)) => key = Some(w),
                (None, Ok(_)) => {}
            }
        }
        Some(Dump { state, fields })
    }

    /// A counter; 0 when the line does not have it.
    pub fn get(&self, key: &str) -> u64 {
        self.fields.get(key).copied().unwrap_or(0)
    }
}

/// Starts `argv` in namespace `ns` with stdout+stderr appended to `log`.
pub(super) fn spawn_in(ns: &str, argv: &[String], log: &Path) -> Child {
    let out = match std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
    {
        Ok(f) => f,
        Err(e) => panic!("cannot open {}: {e}", log.display()),
    };
    let err = match out.try_clone() {
        Ok(f) => f,
        Err(e) => panic!("cannot dup log fd: {e}"),
    };
    // `ip netns exec` execs the program after entering the namespace, so the child's PID is
    // the daemon's own.
    let spawned = std::process::Command::new(&super::tools::t().ip)
        .args(["netns", "exec", ns])
        .args(argv)
        .stdin(std::process::Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn();
    match spawned {
        Ok(c) => c,
        Err(e) => panic!("cannot start {argv:?} in {ns}: {e}"),
    }
}

/// A daemon and the tail of its log, for failure messages.
pub fn describe(d: &Daemon) -> String {
    format!(
        "{:?} on r{} (pid {}), log {}:\n{}",
        d.kind,
        d.router,
        d.pid(),
        d.log.display(),
        tail(&d.log(), 40)
    )
}

/// The last `n` lines of `s`.
pub fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
