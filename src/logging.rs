//! Where log lines go: stderr (foreground, `-l`, procd's logd) or syslog (daemonised).

use log::{Level, LevelFilter, Log, Metadata, Record};

/// Installs the logger. Errors only if a logger is already set, which cannot happen in `main`.
pub fn init(console: bool, level: LevelFilter) {
    let res = if console {
        simple_logger::SimpleLogger::new().with_level(level).init()
    } else {
        // SAFETY: the ident is a static C string that outlives the process's use of syslog.
        unsafe {
            libc::openlog(
                c"vrrpd".as_ptr(),
                libc::LOG_PID | libc::LOG_NDELAY,
                libc::LOG_DAEMON,
            )
        };
        log::set_max_level(level);
        log::set_logger(&SYSLOG)
    };
    if res.is_err() {
        eprintln!("vrrpd: a logger was already installed");
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
        // One fixed buffer: a log line never allocates. Longer lines are cut.
        let mut buf = [0u8; 512];
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
