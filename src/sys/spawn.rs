//! Child processes (health checks, notify scripts) that never block the event loop.
//!
//! fork + execve rather than posix_spawn, because posix_spawn cannot drop to another user. Each
//! child leads its own process group, so a timeout kills the script and whatever it started.
//! Nothing waits: the daemon calls [`Spawner::reap`] when signalfd reports SIGCHLD and
//! [`Spawner::expire`] at [`Spawner::next_deadline`]. The table is bounded, so a storm of
//! transitions cannot fork-bomb a small router, and every entry is reaped, so no zombies.

use core::time::Duration;
use std::ffi::{CString, OsStr};
use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::os;
use crate::time::Instant;

/// How long a timed-out child gets between SIGTERM and SIGKILL.
pub const KILL_GRACE: Duration = Duration::from_secs(2);

/// Exit status of a child whose exec failed (as shells use).
const EXIT_EXEC_FAILED: libc::c_int = 127;
/// Exit status of a child that could not drop to its user.
const EXIT_CREDS_FAILED: libc::c_int = 126;

/// The user and group a child runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Creds {
    pub uid: libc::uid_t,
    pub gid: libc::gid_t,
}

/// A command ready to run: the executable resolved to a path, the arguments as C strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    path: CString,
    argv: Vec<CString>,
    /// `KEY=VALUE` entries set for the child on top of the daemon's environment.
    env: Vec<CString>,
}

impl Program {
    /// From argv words. A first word without '/' is looked up in PATH, as a shell would; the
    /// lookup happens here, not in the child, because the child may only make async-signal-safe
    /// calls.
    pub fn new(words: &[String]) -> io::Result<Program> {
        let first = words
            .first()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty command"))?;
        let path = if first.contains('/') {
            PathBuf::from(first)
        } else {
            search_path(first)?
        };
        let argv = words
            .iter()
            .map(|w| cstring(w.as_bytes()))
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Program {
            path: cstring(path.as_os_str().as_bytes())?,
            argv,
            env: Vec::new(),
        })
    }

    /// The executable that will run.
    pub fn path(&self) -> &Path {
        Path::new(OsStr::from_bytes(self.path.as_bytes()))
    }

    /// A copy with `extra` arguments appended (the generic `notify` gets four).
    pub fn with_args(&self, extra: &[&str]) -> io::Result<Program> {
        let mut p = self.clone();
        for a in extra {
            p.argv.push(cstring(a.as_bytes())?);
        }
        Ok(p)
    }
}

impl Program {
    /// A copy that sets `vars` in the child's environment (hotplug-call reads ACTION, TYPE, NAME).
    pub fn with_env(&self, vars: &[(&str, &str)]) -> io::Result<Program> {
        let mut p = self.clone();
        for (k, v) in vars {
            p.env.push(cstring(format!("{k}={v}").as_bytes())?);
        }
        Ok(p)
    }
}

fn cstring(b: &[u8]) -> io::Result<CString> {
    CString::new(b).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in command"))
}

fn search_path(name: &str) -> io::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/sbin:/usr/bin:/sbin:/bin".into());
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(name);
        if candidate
            .metadata()
            .is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0)
        {
            return Ok(candidate);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        format!("'{name}' not found in PATH"),
    ))
}

/// Splits a command line into words the way keepalived does: blanks separate words, '…' quotes
/// literally, "…" quotes with \" and \\ escapes, a backslash outside quotes escapes the next
/// character, and quoted pieces join the text they touch. No shell is involved; write
/// `/bin/sh -c '…'` to get one. An unterminated quote runs to the end of the line.
pub fn split_command(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some(e @ ('"' | '\\')) => word.push(e),
                            Some(e) => {
                                word.push('\\');
                                word.push(e);
                            }
                            None => word.push('\\'),
                        },
                        q => word.push(q),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(e) = chars.next() {
                    word.push(e);
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// Looks up `user` (and `group`, else the user's own group); numeric ids are taken as they are.
/// It reads /etc/passwd and /etc/group, so call it when loading the configuration, not per run.
pub fn lookup_creds(user: &str, group: Option<&str>) -> io::Result<Creds> {
    let (uid, user_gid) = match user.parse::<libc::uid_t>() {
        Ok(uid) => (uid, None),
        Err(_) => {
            let (uid, gid) = passwd(user)?;
            (uid, Some(gid))
        }
    };
    let gid = match group {
        Some(g) => match g.parse::<libc::gid_t>() {
            Ok(gid) => gid,
            Err(_) => group_id(g)?,
        },
        None => match user_gid {
            Some(gid) => gid,
            // A bare uid with no passwd entry: assume its private group of the same number.
            None => passwd_by_uid_gid(uid).unwrap_or(uid),
        },
    };
    Ok(Creds { uid, gid })
}

/// Buffer size for the *_r lookups; entries on a router are short.
const LOOKUP_BUF: usize = 4096;

fn not_found(what: &str, name: &str) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("no such {what} '{name}'"))
}

fn passwd(name: &str) -> io::Result<(libc::uid_t, libc::gid_t)> {
    let cname = cstring(name.as_bytes())?;
    let mut buf = vec![0 as libc::c_char; LOOKUP_BUF];
    // SAFETY: passwd is plain data; getpwnam_r fills it.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer refers to live memory of the size given; getpwnam_r writes only into
    // `pw`, `buf` and `result`.
    let rc = unsafe {
        libc::getpwnam_r(
            cname.as_ptr(),
            &mut pw,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    if result.is_null() {
        return Err(not_found("user", name));
    }
    Ok((pw.pw_uid, pw.pw_gid))
}

fn passwd_by_uid_gid(uid: libc::uid_t) -> Option<libc::gid_t> {
    let mut buf = vec![0 as libc::c_char; LOOKUP_BUF];
    // SAFETY: as in `passwd`.
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: as in `passwd`.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut result) };
    (rc == 0 && !result.is_null()).then_some(pw.pw_gid)
}

fn group_id(name: &str) -> io::Result<libc::gid_t> {
    let cname = cstring(name.as_bytes())?;
    let mut buf = vec![0 as libc::c_char; LOOKUP_BUF];
    // SAFETY: group is plain data; getgrnam_r fills it.
    let mut gr: libc::group = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::group = std::ptr::null_mut();
    // SAFETY: every pointer refers to live memory of the size given.
    let rc = unsafe {
        libc::getgrnam_r(
            cname.as_ptr(),
            &mut gr,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    if result.is_null() {
        return Err(not_found("group", name));
    }
    Ok(gr.gr_gid)
}

/// With `enable_script_security`: why `path` must not be run, if someone other than root could
/// change what it does — the file or any directory above it owned by a non-root user, or
/// writable by a non-root group or by everyone (a sticky directory such as /tmp excepted, since
/// others cannot replace what they do not own there). Symlinks are checked along both the path
/// as written and the path they resolve to.
pub fn insecure(path: &Path) -> Option<String> {
    let resolved = match path.canonicalize() {
        Ok(p) => p,
        Err(e) => return Some(format!("{}: {e}", path.display())),
    };
    for p in [path, resolved.as_path()] {
        for (i, dir) in p.ancestors().enumerate() {
            if dir.as_os_str().is_empty() {
                continue;
            }
            let m = match dir.metadata() {
                Ok(m) => m,
                Err(e) => return Some(format!("{}: {e}", dir.display())),
            };
            let what = if i == 0 { "script" } else { "directory" };
            let sticky_dir = m.is_dir() && m.mode() & libc::S_ISVTX != 0;
            if m.uid() != 0 {
                return Some(format!(
                    "{what} {} is owned by uid {}, not root",
                    dir.display(),
                    m.uid()
                ));
            }
            if m.mode() & 0o020 != 0 && m.gid() != 0 {
                return Some(format!(
                    "{what} {} is writable by group {}",
                    dir.display(),
                    m.gid()
                ));
            }
            if m.mode() & 0o002 != 0 && !sticky_dir {
                return Some(format!("{what} {} is writable by everyone", dir.display()));
            }
        }
    }
    None
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Exited(i32),
    Signaled(i32),
    /// It overran its timeout and was killed.
    TimedOut,
    /// The kernel no longer knows it (someone else reaped it); counts as a failure.
    Lost,
}

impl Outcome {
    pub fn success(self) -> bool {
        self == Outcome::Exited(0)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Outcome::Exited(c) => write!(f, "exited with status {c}"),
            Outcome::Signaled(s) => write!(f, "killed by signal {s}"),
            Outcome::TimedOut => f.write_str("timed out and was killed"),
            Outcome::Lost => f.write_str("vanished"),
        }
    }
}

#[derive(Debug)]
pub enum SpawnError {
    /// The child table is full; the run is skipped.
    Full,
    Io(io::Error),
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnError::Full => f.write_str("too many scripts running"),
            SpawnError::Io(e) => write!(f, "{e}"),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Running {
        deadline: Option<Instant>,
    },
    /// SIGTERM sent; SIGKILL at `kill_at`.
    Terminating {
        kill_at: Instant,
    },
    /// SIGKILL sent; only the reaping is left.
    Killed,
}

struct Child<T> {
    pid: libc::pid_t,
    tag: T,
    phase: Phase,
    timed_out: bool,
}

/// The running children, each with a caller's tag that comes back when it is reaped.
pub struct Spawner<T> {
    children: Vec<Child<T>>,
    cap: usize,
    devnull: OwnedFd,
}

impl<T: Copy> Spawner<T> {
    /// At most `cap` children at once.
    pub fn new(cap: usize) -> io::Result<Spawner<T>> {
        // SAFETY: a constant NUL-terminated path; open returns a new descriptor or -1.
        let fd = unsafe {
            libc::open(
                c"/dev/null".as_ptr(),
                libc::O_RDWR | libc::O_CLOEXEC | libc::O_NOCTTY,
            )
        };
        Ok(Spawner {
            children: Vec::with_capacity(cap),
            cap,
            devnull: os::owned(fd)?,
        })
    }

    pub fn len(&self) -> usize {
        self.children.len()
    }

    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Changes the cap; children already running are not touched.
    pub fn set_cap(&mut self, cap: usize) {
        self.cap = cap;
    }

    /// Whether a child whose tag satisfies `pred` is still running (or not yet reaped).
    pub fn any(&self, pred: impl Fn(&T) -> bool) -> bool {
        self.children.iter().any(|c| pred(&c.tag))
    }

    /// Starts `prog` with stdin, stdout and stderr on /dev/null, as `creds` when given, to be
    /// killed after `timeout` when given. Returns at once.
    pub fn spawn(
        &mut self,
        now: Instant,
        prog: &Program,
        creds: Option<Creds>,
        timeout: Option<Duration>,
        tag: T,
    ) -> Result<libc::pid_t, SpawnError> {
        if self.children.len() >= self.cap {
            return Err(SpawnError::Full);
        }
        // Everything the child needs is built before fork: after it, the child may not allocate.
        let argv: Vec<*const libc::c_char> = prog
            .argv
            .iter()
            .map(|a| a.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect();
        let own = |k: &OsStr| {
            prog.env.iter().any(|e| {
                e.as_bytes()
                    .strip_prefix(k.as_bytes())
                    .is_some_and(|r| r.first() == Some(&b'='))
            })
        };
        let env: Vec<CString> = std::env::vars_os()
            .filter(|(k, _)| !own(k))
            .filter_map(|(k, v)| {
                let mut b = k.as_bytes().to_vec();
                b.push(b'=');
                b.extend_from_slice(v.as_bytes());
                CString::new(b).ok()
            })
            .chain(prog.env.iter().cloned())
            .collect();
        let envp: Vec<*const libc::c_char> = env
            .iter()
            .map(|e| e.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect();
        // Only change identity when it differs, so an unprivileged daemon can still run scripts.
        // SAFETY: geteuid/getegid have no preconditions.
        let (euid, egid) = unsafe { (libc::geteuid(), libc::getegid()) };
        let creds = creds.filter(|c| c.uid != euid || c.gid != egid);
        let devnull = self.devnull.as_raw_fd();

        // SAFETY: fork has no preconditions; the child only calls async-signal-safe functions
        // (see `exec_child`) on memory prepared above, so it is sound even if other threads
        // exist (as in tests).
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(SpawnError::Io(io::Error::last_os_error()));
        }
        if pid == 0 {
            // SAFETY: we are the freshly forked child; the pointers are valid NULL-terminated
            // arrays of C strings that live in our copy of the parent's memory.
            unsafe { exec_child(&prog.path, &argv, &envp, creds, devnull) }
        }
        // The child makes itself a group leader too; doing it here as well closes the window in
        // which a timeout could signal a group that does not exist yet. It fails harmlessly
        // once the child has exec'd (EACCES) or exited.
        // SAFETY: plain integers.
        unsafe { libc::setpgid(pid, pid) };
        let deadline = timeout.map(|t| now + t);
        self.children.push(Child {
            pid,
            tag,
            phase: Phase::Running { deadline },
            timed_out: false,
        });
        Ok(pid)
    }

    /// Reaps every child that has ended and hands its tag, pid and outcome to `f`. Never blocks.
    pub fn reap(&mut self, mut f: impl FnMut(T, libc::pid_t, Outcome)) {
        let mut i = 0;
        while i < self.children.len() {
            let mut status: libc::c_int = 0;
            // SAFETY: `status` is a live int; WNOHANG makes the call return at once.
            let r = unsafe { libc::waitpid(self.children[i].pid, &mut status, libc::WNOHANG) };
            if r == 0 {
                i += 1;
                continue;
            }
            if r < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            let c = self.children.swap_remove(i);
            let outcome = if r < 0 {
                Outcome::Lost
            } else if c.timed_out {
                Outcome::TimedOut
            } else if libc::WIFEXITED(status) {
                Outcome::Exited(libc::WEXITSTATUS(status))
            } else {
                Outcome::Signaled(libc::WTERMSIG(status))
            };
            f(c.tag, c.pid, outcome);
        }
    }

    /// Terminates children past their timeout (SIGTERM to the group, SIGKILL after
    /// [`KILL_GRACE`]). Their end comes back through `reap` as [`Outcome::TimedOut`].
    pub fn expire(&mut self, now: Instant) {
        for c in &mut self.children {
            match c.phase {
                Phase::Running { deadline: Some(d) } if d <= now => {
                    c.timed_out = true;
                    signal_group(c.pid, libc::SIGTERM);
                    c.phase = Phase::Terminating {
                        kill_at: now + KILL_GRACE,
                    };
                }
                Phase::Terminating { kill_at } if kill_at <= now => {
                    signal_group(c.pid, libc::SIGKILL);
                    c.phase = Phase::Killed;
                }
                _ => {}
            }
        }
    }

    /// Sends SIGTERM now to every child whose tag satisfies `pred` (at shutdown), SIGKILL after
    /// the grace period if the loop still runs.
    pub fn terminate(&mut self, now: Instant, pred: impl Fn(&T) -> bool) {
        for c in self.children.iter_mut().filter(|c| pred(&c.tag)) {
            if let Phase::Running { .. } = c.phase {
                c.timed_out = true;
                signal_group(c.pid, libc::SIGTERM);
                c.phase = Phase::Terminating {
                    kill_at: now + KILL_GRACE,
                };
            }
        }
    }

    /// When [`Spawner::expire`] next has something to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.children
            .iter()
            .filter_map(|c| match c.phase {
                Phase::Running { deadline } => deadline,
                Phase::Terminating { kill_at } => Some(kill_at),
                Phase::Killed => None,
            })
            .min()
    }
}

fn signal_group(pid: libc::pid_t, sig: libc::c_int) {
    // SAFETY: plain integers. The group first (the script and its children); the pid too, in
    // case the child had not yet become a group leader.
    unsafe {
        libc::kill(-pid, sig);
        libc::kill(pid, sig);
    }
}

/// The child's side of fork: reset what the daemon changed, drop privileges, exec.
///
/// # Safety
/// Must be called only in a freshly forked child. `argv` and `envp` are NULL-terminated arrays
/// of valid C strings. Only async-signal-safe functions are called.
unsafe fn exec_child(
    path: &CString,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
    creds: Option<Creds>,
    devnull: RawFd,
) -> ! {
    // SAFETY (whole body): each call is async-signal-safe and gets valid pointers: a zeroed
    // sigset filled by sigemptyset, constants, our own descriptors, and the caller's arrays.
    unsafe {
        // The daemon blocks the signals it reads through signalfd, and the mask survives exec;
        // Rust ignores SIGPIPE, and an ignored disposition survives exec too.
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::setpgid(0, 0);
        for fd in 0..3 {
            libc::dup2(devnull, fd);
        }
        if let Some(c) = creds {
            // Group first: after setuid we may no longer change it.
            if libc::setgroups(1, &c.gid) != 0
                || libc::setgid(c.gid) != 0
                || libc::setuid(c.uid) != 0
            {
                libc::_exit(EXIT_CREDS_FAILED);
            }
        }
        libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr());
        libc::_exit(EXIT_EXEC_FAILED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::clock;
    use std::time::Instant as StdInstant;

    fn words(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn splits_like_keepalived() {
        assert_eq!(
            split_command("/bin/x a  b\tc"),
            words(&["/bin/x", "a", "b", "c"])
        );
        assert_eq!(
            split_command("abcd\" efg h jkl \"mnop"),
            words(&["abcd efg h jkl mnop"])
        );
        assert_eq!(
            split_command("/bin/sh -c 'echo \"$1\" >> /tmp/x' sh"),
            words(&["/bin/sh", "-c", "echo \"$1\" >> /tmp/x", "sh"])
        );
        assert_eq!(
            split_command(r#"a "q\"uo\\te\n" b\ c ''"#),
            words(&["a", "q\"uo\\te\\n", "b c", ""])
        );
        assert_eq!(split_command("  "), Vec::<String>::new());
        assert_eq!(split_command("'open"), words(&["open"]));
        assert_eq!(split_command("\"open\\"), words(&["open\\"]));
        assert_eq!(split_command("end\\"), words(&["end"]));
    }

    #[test]
    fn program_resolves_path() {
        let p = Program::new(&words(&["sh", "-c", "true"])).unwrap();
        assert!(p.path().is_absolute(), "{:?}", p.path());
        assert!(Program::new(&words(&["no-such-command-vrrpd"])).is_err());
        assert!(Program::new(&[]).is_err());
        assert!(Program::new(&words(&["/bin/x", "a\0b"])).is_err());
        let q = p.with_args(&["INSTANCE", "VI_1"]).unwrap();
        assert_eq!(q.argv.len(), 5);
    }

    #[test]
    fn lookup_root() {
        assert_eq!(
            lookup_creds("root", None).unwrap(),
            Creds { uid: 0, gid: 0 }
        );
        assert_eq!(
            lookup_creds("0", Some("0")).unwrap(),
            Creds { uid: 0, gid: 0 }
        );
        assert!(lookup_creds("no-such-user-vrrpd", None).is_err());
        assert!(lookup_creds("root", Some("no-such-group-vrrpd")).is_err());
    }

    /// Waits (in the test, not in the daemon) until `n` children have been reaped.
    fn collect(s: &mut Spawner<u32>, n: usize, limit: Duration) -> Vec<(u32, Outcome)> {
        let start = StdInstant::now();
        let mut got = Vec::new();
        while got.len() < n {
            assert!(start.elapsed() < limit, "children did not end: {got:?}");
            s.expire(clock::now());
            s.reap(|t, _, o| got.push((t, o)));
            std::thread::sleep(Duration::from_millis(10));
        }
        got
    }

    fn sh(script: &str) -> Program {
        Program::new(&words(&["/bin/sh", "-c", script])).unwrap()
    }

    #[test]
    fn runs_reaps_and_reports_status() {
        let mut s = Spawner::new(4).unwrap();
        let now = clock::now();
        s.spawn(now, &sh("exit 0"), None, None, 1).unwrap();
        s.spawn(now, &sh("exit 3"), None, None, 2).unwrap();
        s.spawn(now, &sh("kill -9 $$"), None, None, 3).unwrap();
        let prog = Program::new(&words(&["/nonexistent/vrrpd-script"])).unwrap();
        s.spawn(now, &prog, None, None, 4).unwrap();
        assert!(matches!(
            s.spawn(now, &sh("exit 0"), None, None, 5),
            Err(SpawnError::Full)
        ));
        let mut got = collect(&mut s, 4, Duration::from_secs(10));
        got.sort_by_key(|g| g.0);
        assert_eq!(
            got,
            vec![
                (1, Outcome::Exited(0)),
                (2, Outcome::Exited(3)),
                (3, Outcome::Signaled(9)),
                (4, Outcome::Exited(127)),
            ]
        );
        assert!(s.is_empty());
        assert!(got[0].1.success() && !got[1].1.success());
    }

    #[test]
    fn spawn_does_not_wait_and_timeout_kills_the_group() {
        let mut s = Spawner::new(2).unwrap();
        let dir = std::env::temp_dir().join(format!("vrrpd-spawn-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pidfile = dir.join("grandchild");
        // The script starts a grandchild that would outlive it, then sleeps far past its timeout.
        let script = format!("sleep 60 & echo $! > {}; wait", pidfile.display());
        let start = StdInstant::now();
        let now = clock::now();
        s.spawn(now, &sh(&script), None, Some(Duration::from_millis(300)), 7)
            .unwrap();
        assert!(
            start.elapsed() < Duration::from_millis(200),
            "spawn blocked"
        );
        assert!(s.any(|t| *t == 7));
        assert!(s.next_deadline().is_some());
        let got = collect(&mut s, 1, Duration::from_secs(10));
        assert_eq!(got, vec![(7, Outcome::TimedOut)]);
        assert!(start.elapsed() < Duration::from_secs(5));
        // The grandchild was in the same group, so it got the signal too.
        let grandchild: libc::pid_t = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let deadline = StdInstant::now() + Duration::from_secs(5);
        loop {
            // SAFETY: signal 0 only checks existence. (Reparented to init, it is not our zombie.)
            let alive = unsafe { libc::kill(grandchild, 0) } == 0;
            let zombie = std::fs::read_to_string(format!("/proc/{grandchild}/stat"))
                .map(|st| st.contains(") Z "))
                .unwrap_or(true);
            if !alive || zombie {
                break;
            }
            assert!(StdInstant::now() < deadline, "grandchild survived");
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn sigterm_ignoring_child_is_killed_after_grace() {
        let mut s = Spawner::new(1).unwrap();
        let now = clock::now();
        s.spawn(
            now,
            &sh("trap '' TERM; sleep 30"),
            None,
            Some(Duration::from_millis(100)),
            1,
        )
        .unwrap();
        let start = StdInstant::now();
        let got = collect(&mut s, 1, Duration::from_secs(10));
        assert_eq!(got, vec![(1, Outcome::TimedOut)]);
        assert!(start.elapsed() >= KILL_GRACE);
    }

    #[test]
    fn drops_privileges() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: needs root");
            return;
        }
        let mut s = Spawner::new(1).unwrap();
        let p = sh("test \"$(id -u)\" = 65534 && test \"$(id -g)\" = 65533");
        let creds = Creds {
            uid: 65534,
            gid: 65533,
        };
        s.spawn(clock::now(), &p, Some(creds), None, 1).unwrap();
        assert_eq!(
            collect(&mut s, 1, Duration::from_secs(10)),
            vec![(1, Outcome::Exited(0))]
        );
    }

    #[test]
    fn security_check() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: needs root");
            return;
        }
        use std::os::unix::fs::PermissionsExt;
        let base = std::env::temp_dir().join(format!("vrrpd-sec-{}", std::process::id()));
        let good = base.join("good");
        let bad = base.join("bad");
        std::fs::create_dir_all(&good).unwrap();
        std::fs::create_dir_all(&bad).unwrap();
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&good, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o777)).unwrap();
        for d in [&good, &bad] {
            let f = d.join("s.sh");
            std::fs::write(&f, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        assert_eq!(insecure(&good.join("s.sh")), None);
        let why = insecure(&bad.join("s.sh")).unwrap();
        assert!(why.contains("writable by everyone"), "{why}");
        std::fs::set_permissions(good.join("s.sh"), std::fs::Permissions::from_mode(0o757))
            .unwrap();
        let why = insecure(&good.join("s.sh")).unwrap();
        assert!(why.starts_with("script"), "{why}");
        // SAFETY: a live C string path; chown only changes ownership.
        let p = CString::new(good.join("s.sh").as_os_str().as_bytes()).unwrap();
        std::fs::set_permissions(good.join("s.sh"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        assert_eq!(unsafe { libc::chown(p.as_ptr(), 1000, 0) }, 0);
        let why = insecure(&good.join("s.sh")).unwrap();
        assert!(why.contains("owned by uid 1000"), "{why}");
        assert!(insecure(&base.join("missing")).is_some());
        let _ = std::fs::remove_dir_all(&base);
    }
}
