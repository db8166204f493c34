//! Running short commands with a time bound, and signalling processes by PID.

use std::ffi::OsStr;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// What a finished (or timed-out) command left behind.
#[derive(Debug)]
pub struct Ran {
    /// Exit code; `None` when killed by a signal or by our timeout.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

impl Ran {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }
}

/// Runs `prog args…` for at most `limit`, capturing both streams.
pub fn run_for<S: AsRef<OsStr>>(prog: &Path, args: &[S], limit: Duration) -> Ran {
    let mut child = match Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => panic!("cannot run {}: {e}", prog.display()),
    };
    // Drain the pipes on threads so a chatty command cannot block on a full pipe.
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let status = wait_timeout(&mut child, limit);
    let timed_out = status.is_none();
    if timed_out {
        sigkill(child.id());
        let _ = child.wait();
    }
    Ran {
        code: status.and_then(|s| s.code()),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        timed_out,
    }
}

/// `run_for` with a 20 s bound (plenty for ip/nft/tshark).
pub fn run<S: AsRef<OsStr>>(prog: &Path, args: &[S]) -> Ran {
    run_for(prog, args, Duration::from_secs(20))
}

/// `run`, panicking with the command's stderr if it fails: for lab set-up steps.
pub fn must<S: AsRef<OsStr>>(prog: &Path, args: &[S]) -> Ran {
    let r = run(prog, args);
    if !r.ok() {
        let argv: Vec<_> = args.iter().map(|a| a.as_ref().to_string_lossy()).collect();
        panic!(
            "lab command failed: {} {}\n{}{}",
            prog.display(),
            argv.join(" "),
            r.stdout,
            r.stderr
        );
    }
    r
}

fn drain<R: Read + Send + 'static>(r: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(mut r) = r {
            let _ = r.read_to_end(&mut s);
        }
        String::from_utf8_lossy(&s).into_owned()
    })
}

/// Waits for `child` to exit, up to `limit`.
pub fn wait_timeout(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let end = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(s)) => return Some(s),
            Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(10)),
            _ => return None,
        }
    }
}

/// Sends `sig` to `pid`; a process that is already gone is not an error.
pub fn signal(pid: u32, sig: libc::c_int) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    if pid > 1 {
        // SAFETY: kill(2) with a positive PID we started (or found in our own namespace).
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

pub fn sigkill(pid: u32) {
    signal(pid, libc::SIGKILL);
}

/// True while `pid` exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state letter follows the parenthesised command name.
        Ok(s) => s
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|st| st != "Z" && st != "X"),
        Err(_) => false,
    }
}

/// Waits until `pid` is gone (or a zombie), up to `limit`.
pub fn wait_gone(pid: u32, limit: Duration) -> bool {
    super::wait_until(limit, Duration::from_millis(10), || !alive(pid))
}
