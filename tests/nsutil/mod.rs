//! Shared by the hostile, self-healing and soak tests: network namespaces named by the test,
//! vrrpd processes inside them with their log in a file, and a thread that can step into a
//! namespace to send or capture packets. Everything is removed on drop, and only the PIDs we
//! started are ever signalled.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::fs;
use std::io;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// True if the test may go on. Without root it panics under CI=true and otherwise says
/// "skipped" and the test returns.
pub fn need_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("needs root: these tests create network namespaces");
    }
    eprintln!("skipped: needs root");
    false
}

fn run(cmd: &mut Command) -> io::Result<String> {
    let out = cmd.stdin(Stdio::null()).output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A network namespace, deleted on drop (with every interface in it).
pub struct Ns {
    pub name: String,
}

impl Ns {
    /// `name` should start with "vh" and be unique per test; the PID is appended so two runs of
    /// the suite at once do not collide.
    pub fn new(name: &str) -> Ns {
        let name = format!("{name}-{}", std::process::id());
        // A leftover from a killed run of this same test and PID is stale: take it away.
        let _ = run(Command::new("ip").args(["netns", "del", &name]));
        run(Command::new("ip").args(["netns", "add", &name])).expect("ip netns add");
        let ns = Ns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        // Spoofed sources must reach the daemon; a fresh namespace has rp_filter 0 already,
        // but say so in case the defaults were changed.
        for key in ["all", "default"] {
            let _ = ns.sh(&format!("sysctl -qw net.ipv4.conf.{key}.rp_filter=0"));
        }
        ns
    }

    /// `ip -n NS ARGS`, which must succeed.
    pub fn ip(&self, args: &[&str]) -> String {
        self.try_ip(args)
            .unwrap_or_else(|e| panic!("ip -n {} {args:?}: {e}", self.name))
    }

    pub fn try_ip(&self, args: &[&str]) -> io::Result<String> {
        run(Command::new("ip").args(["-n", &self.name]).args(args))
    }

    /// A shell command inside the namespace.
    pub fn sh(&self, script: &str) -> io::Result<String> {
        run(Command::new("ip").args(["netns", "exec", &self.name, "sh", "-c", script]))
    }

    /// The IPv4 addresses on `dev`, as "a.b.c.d/len".
    pub fn addrs(&self, dev: &str) -> Vec<String> {
        self.try_ip(&["-o", "-4", "addr", "show", "dev", dev])
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                w.position(|x| x == "inet")?;
                w.next().map(str::to_string)
            })
            .collect()
    }

    pub fn has_addr(&self, dev: &str, addr: &str) -> bool {
        self.addrs(dev)
            .iter()
            .any(|a| a.split('/').next() == Some(addr))
    }

    /// Runs `body` on a thread that has entered this namespace (namespaces are per thread).
    pub fn spawn<T: Send + 'static>(
        &self,
        body: impl FnOnce() -> T + Send + 'static,
    ) -> std::thread::JoinHandle<T> {
        let path = format!("/var/run/netns/{}", self.name);
        std::thread::spawn(move || {
            let f = fs::File::open(&path).expect("open netns");
            // SAFETY: setns on a namespace file we hold open; it moves only this thread.
            let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns: {}", io::Error::last_os_error());
            body()
        })
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = run(Command::new("ip").args(["netns", "del", &self.name]));
    }
}

/// A LAN: one namespace holding a bridge, and hosts each with an `eth0` plugged into it.
pub struct Lan {
    pub sw: Ns,
    pub hosts: Vec<Ns>,
}

impl Lan {
    /// Hosts `{tag}h{k}` with eth0 = 10.99.{net}.{11+k}/24; the bridge is in `{tag}sw`.
    pub fn new(tag: &str, net: u8, hosts: usize) -> Lan {
        let sw = Ns::new(&format!("{tag}sw"));
        sw.ip(&["link", "add", "br0", "type", "bridge"]);
        sw.ip(&["link", "set", "br0", "up"]);
        let mut lan = Lan { sw, hosts: vec![] };
        for k in 0..hosts {
            let h = Ns::new(&format!("{tag}h{k}"));
            let port = format!("p{k}");
            lan.sw.ip(&[
                "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns", &h.name,
            ]);
            lan.sw.ip(&["link", "set", &port, "master", "br0"]);
            lan.sw.ip(&["link", "set", &port, "up"]);
            h.ip(&[
                "addr",
                "add",
                &format!("10.99.{net}.{}/24", 11 + k),
                "dev",
                "eth0",
            ]);
            h.ip(&["link", "set", "eth0", "up"]);
            lan.hosts.push(h);
        }
        lan
    }

    /// Cuts host `k` off the bridge (its link stays up, so it sees silence, not a fault).
    pub fn unplug(&self, k: usize) {
        self.sw.ip(&["link", "set", &format!("p{k}"), "nomaster"]);
    }

    pub fn plug(&self, k: usize) {
        self.sw
            .ip(&["link", "set", &format!("p{k}"), "master", "br0"]);
    }
}

/// A scratch directory for configs, pid files and logs, removed on drop.
pub struct Dir(pub PathBuf);

impl Dir {
    pub fn new(tag: &str) -> Dir {
        let p = std::env::temp_dir().join(format!("{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).expect("mkdir");
        Dir(p)
    }
    pub fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        if std::env::var_os("VH_KEEP").is_none() {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
}

/// One vrrpd in a namespace, in the foreground, logging to a file.
pub struct Vrrpd {
    child: Option<Child>,
    pub pid: u32,
    pub conf: PathBuf,
    pub log: PathBuf,
}

impl Vrrpd {
    /// Starts `vrrpd -n -l -f CONF -p PIDFILE` in `ns`; files go to `dir` under `name`.
    pub fn start(ns: &Ns, dir: &Dir, name: &str, config: &str) -> Vrrpd {
        Vrrpd::start_with(ns, dir, name, config, &[])
    }

    /// As `start`, with `wrapper` (a command that execs its arguments, like setpriv) first.
    pub fn start_with(ns: &Ns, dir: &Dir, name: &str, config: &str, wrapper: &[&str]) -> Vrrpd {
        let conf = dir.file(&format!("{name}.conf"));
        let log = dir.file(&format!("{name}.log"));
        let pid = dir.file(&format!("{name}.pid"));
        fs::write(&conf, config).expect("write config");
        let logf = fs::File::create(&log).expect("create log");
        // `ip netns exec` (and the wrapper) exec vrrpd in place, so the child's PID is vrrpd's.
        let child = Command::new("ip")
            .args(["netns", "exec", &ns.name])
            .args(wrapper)
            .args([env!("CARGO_BIN_EXE_vrrpd"), "-n", "-l"])
            .arg("-f")
            .arg(&conf)
            .arg("-p")
            .arg(&pid)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(logf)
            .spawn()
            .expect("spawn vrrpd");
        Vrrpd {
            pid: child.id(),
            child: Some(child),
            conf,
            log,
        }
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Lines of the log that contain `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.log_text()
            .lines()
            .filter(|l| l.contains(needle))
            .count()
    }

    /// Waits until the log has at least `n` lines containing `needle`.
    pub fn wait_for(&self, needle: &str, n: usize, limit: Duration) -> bool {
        eventually(limit, || self.count(needle) >= n)
    }

    pub fn signal(&self, sig: libc::c_int) {
        assert!(
            self.alive(),
            "vrrpd {} is gone:\n{}",
            self.pid,
            self.log_text()
        );
        // SAFETY: kill on the PID of a child we started and have not reaped.
        unsafe { libc::kill(self.pid as libc::pid_t, sig) };
    }

    pub fn alive(&self) -> bool {
        // A reaped or zombie child shows as "Z" or not at all in /proc.
        fs::read_to_string(format!("/proc/{}/stat", self.pid))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false)
    }

    /// Sends SIGUSR1 and returns the dump line of `instance` it wrote.
    pub fn dump(&self, instance: &str) -> Dump {
        let needle = format!("({instance}) state ");
        let before = self.count(&needle);
        self.signal(libc::SIGUSR1);
        assert!(
            self.wait_for(&needle, before + 1, Duration::from_secs(5)),
            "no state dump:\n{}",
            self.log_text()
        );
        let text = self.log_text();
        let line = text
            .lines()
            .filter(|l| l.contains(&needle))
            .nth(before)
            .unwrap_or_default();
        Dump::parse(line)
    }

    /// RSS in KiB and the number of open descriptors, from /proc.
    pub fn resources(&self) -> (u64, usize) {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        let rss = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0);
        let fds = fs::read_dir(format!("/proc/{}/fd", self.pid))
            .map(|d| d.count())
            .unwrap_or(0);
        (rss, fds)
    }

    /// A field of /proc/PID/status, e.g. "CapEff".
    pub fn status_field(&self, field: &str) -> Option<String> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .map(|v| v.trim().to_string())
    }

    /// SIGTERM and wait; SIGKILL if it does not stop within 5 s. The exit status, if it exited.
    pub fn stop(&mut self) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        // SAFETY: kill on our own unreaped child.
        unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGTERM) };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(st)) = child.try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }
}

impl Drop for Vrrpd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One SIGUSR1 dump line, e.g. `(VI_1) state MASTER priority 150 adverts_rx 12 ... vrid 0`.
#[derive(Debug, Default)]
pub struct Dump {
    pub state: String,
    pub fields: Vec<(String, u64)>,
}

impl Dump {
    fn parse(line: &str) -> Dump {
        let mut words = line
            .split_whitespace()
            .skip_while(|w| *w != "state")
            .skip(1);
        let state = words.next().unwrap_or_default().to_string();
        let rest: Vec<&str> = words.filter(|w| *w != "dropped").collect();
        let fields = rest
            .chunks(2)
            .filter_map(|c| Some((c.first()?.to_string(), c.get(1)?.parse().ok()?)))
            .collect();
        Dump { state, fields }
    }

    pub fn get(&self, name: &str) -> u64 {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
            .unwrap_or(0)
    }
}

/// Polls `check` every 20 ms until it holds or `limit` passes.
pub fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if check() {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
