//! Where log lines go: stderr (foreground, `-l`, procd's logd) or syslog (daemonised).
//!
//! Logging must never stop the daemon: a log line that cannot be written is lost, not a panic.
//! With stderr a pipe whose reader died (logd restarted, `vrrpd -l | head`), `eprintln!` would
//! panic and, with panic = abort, kill us without the priority-0 advert, leaving the VIPs behind.

use log::{Level, LevelFilter, Log, Metadata, Record};

/// Longest log line; longer lines are cut. One fixed buffer, so a log line never allocates.
const LINE_MAX: usize = 512;

/// Installs the logger. Errors only if a logger is already set, which cannot happen in `main`.
pub fn init(console: bool, level: LevelFilter) {
    // A write to a pipe with no reader must fail with EPIPE, not kill us. Rust's runtime already
    // ignores SIGPIPE; say so here, where we depend on it.
    // SAFETY: installing SIG_IGN has no preconditions.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    log::set_max_level(level);
    let res = if console {
        log::set_logger(&CONSOLE)
    } else {
        // SAFETY: the ident is a static C string that outlives the process's use of syslog.
        unsafe {
            libc::openlog(
                c"vrrpd".as_ptr(),
                libc::LOG_PID | libc::LOG_NDELAY,
                libc::LOG_DAEMON,
            )
        };
        log::set_logger(&SYSLOG)
    };
    if res.is_err() {
        eprintln!("vrrpd: a logger was already installed");
    }
}

/// The message alone on stderr: procd's logd stamps the line with the time and `vrrpd[PID]:`, so
/// logread shows `vrrpd[1234]: (VI_1) Entering MASTER STATE`, as for keepalived.
struct Console;
static CONSOLE: Console = Console;

impl Log for Console {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        m.level() <= log::max_level()
    }

    fn log(&self, r: &Record<'_>) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let mut buf = [0u8; LINE_MAX];
        let mut w = Cursor {
            buf: &mut buf,
            len: 0,
        };
        let _ = core::fmt::write(&mut w, *r.args());
        // The Cursor kept one byte free (for syslog's NUL): the newline goes there.
        let end = w.len.min(buf.len() - 1);
        buf[end] = b'\n';
        write_all(libc::STDERR_FILENO, &buf[..=end]);
    }

    fn flush(&self) {}
}

/// Writes `bytes` to `fd`, retrying short writes and EINTR; any other error drops the rest.
fn write_all(fd: libc::c_int, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: writes from a live buffer of the given length.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        match usize::try_from(n) {
            Ok(0) => return,
            Ok(n) => bytes = bytes.get(n..).unwrap_or_default(),
            Err(_) if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => {
            }
            // EPIPE, EAGAIN on a full non-blocking pipe, EBADF on a closed stderr: the line is lost.
            Err(_) => return,
        }
    }
}

struct Syslog;
static SYSLOG: Syslog = Syslog;

impl Log for Syslog {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        m.level() <= log::max_level()
    }

    fn log(&self, r: &Record<'_>) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let prio = match r.level() {
            Level::Error => libc::LOG_ERR,
            Level::Warn => libc::LOG_WARNING,
            Level::Info => libc::LOG_INFO,
            Level::Debug | Level::Trace => libc::LOG_DEBUG,
        };
        let mut buf = [0u8; LINE_MAX];
        let mut w = Cursor {
            buf: &mut buf,
            len: 0,
        };
        let _ = core::fmt::write(&mut w, *r.args());
        let end = w.len.min(buf.len() - 1);
        buf[end] = 0;
        // SAFETY: "%s" with a NUL-terminated buffer we own; syslog copies it.
        unsafe { libc::syslog(prio, c"%s".as_ptr(), buf.as_ptr()) };
    }

    fn flush(&self) {}
}

struct Cursor<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl core::fmt::Write for Cursor<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        // Leave room for the NUL; drop interior NULs, which would cut the line short.
        let room = self.buf.len().saturating_sub(1 + self.len);
        for &b in s.as_bytes().iter().filter(|&&b| b != 0).take(room) {
            self.buf[self.len] = b;
            self.len += 1;
        }
        Ok(())
    }
}
