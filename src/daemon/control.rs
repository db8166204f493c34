//! Asking the running daemon: keepalived's signals for its dump files, and a control socket for
//! `vrrpd -s` and the rpcd plugin.
//!
//! Why a socket as well as the signals: a signal has no reply, so keepalived's readers send it
//! and then poll for a file that may still be the previous one (OpenWrt's rpcd plugin reads it at
//! once and races the writer). On the socket the answer comes back on the same connection,
//! rendered from the state of that moment; with no daemon, connect fails at once and clearly.
//! It is a Unix stream socket next to the pid file (`/var/run/vrrpd.sock`), mode 0600, served
//! from the same poll loop without ever blocking it: a request is one short line, the answer a
//! few KiB that fits the socket buffer, and a client that does not keep up is dropped.

use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use log::{info, warn};
use mio::Token;
use mio::unix::SourceFd;

use super::Daemon;
use super::status::{self, View};
use crate::sys::clock;

const LISTENER: Token = Token(3);
/// Client `i` is `Token(CLIENT_BASE + i)`, below the daemon's INOTIFY (11).
const CLIENT_BASE: usize = 4;
const MAX_CLIENTS: usize = 4;
/// A request is one word and a newline.
const MAX_REQUEST: usize = 32;

pub struct Control {
    listener: UnixListener,
    path: PathBuf,
    clients: [Option<Client>; MAX_CLIENTS],
    /// The slot a new client takes when all are busy (the oldest, round robin).
    victim: usize,
}

struct Client {
    stream: UnixStream,
    buf: heapless::Vec<u8, MAX_REQUEST>,
}

impl Drop for Control {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The control socket that goes with a pid file: `/var/run/vrrpd.pid` → `/var/run/vrrpd.sock`.
pub fn socket_path(pidfile: &Path) -> PathBuf {
    pidfile.with_extension("sock")
}

/// What a dump signal or request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dump {
    /// keepalived.json (SIGRTMIN+2).
    Json,
    /// keepalived.data (SIGUSR1).
    Data,
    /// keepalived.stats (SIGUSR2).
    Stats,
}

impl Dump {
    fn file(self) -> &'static str {
        match self {
            Dump::Json => "keepalived.json",
            Dump::Data => "keepalived.data",
            Dump::Stats => "keepalived.stats",
        }
    }
}

/// The signal that asks for the JSON dump: SIGRTMIN+2 as keepalived uses, with this libc's
/// SIGRTMIN (glibc 34, musl 35), so `--signum=JSON` must be asked of the same binary.
pub fn json_signal() -> libc::c_int {
    libc::SIGRTMIN() + 2
}

/// `--signum=NAME`: keepalived's names for the signals it handles.
pub fn signum(name: &str) -> Option<libc::c_int> {
    Some(match name {
        "JSON" => json_signal(),
        "DATA" => libc::SIGUSR1,
        "STATS" => libc::SIGUSR2,
        "RELOAD" => libc::SIGHUP,
        "STOP" => libc::SIGTERM,
        _ => return None,
    })
}

/// Every signal the daemon blocks and reads from its signalfd: all that can be blocked except
/// the ones a fault raises in the faulting thread. Blocked ones that vrrpd has no use for are
/// logged and ignored instead of killing it silently (SIGALRM, SIGPWR, SIGRTMIN+n…). 128 is
/// MIPS' signal count.
pub fn blocked_signals() -> heapless::Vec<libc::c_int, 128> {
    let mut v = heapless::Vec::new();
    for sig in 1..=libc::SIGRTMAX() {
        let fault = [
            libc::SIGKILL,
            libc::SIGSTOP,
            libc::SIGSEGV,
            libc::SIGBUS,
            libc::SIGILL,
            libc::SIGFPE,
            libc::SIGTRAP,
            libc::SIGABRT,
            libc::SIGSYS,
        ];
        // libc keeps the first few real-time signals for itself (sigaddset refuses them).
        let reserved = sig > 31 && sig < libc::SIGRTMIN();
        if !fault.contains(&sig) && !reserved {
            let _ = v.push(sig);
        }
    }
    v
}

/// Asks the daemon behind `sock` one request (`status` or `json`) and returns its answer.
pub fn query(sock: &Path, request: &str) -> io::Result<String> {
    let mut s = UnixStream::connect(sock)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.set_write_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(request.as_bytes())?;
    s.write_all(b"\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    if let Some(e) = out.strip_prefix("error ") {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            e.trim().to_string(),
        ));
    }
    Ok(out)
}

impl Daemon {
    /// Serves the control socket at `path` from now on. A socket left there by a daemon that
    /// died is replaced: the pid file lock, taken first, says none is running.
    pub fn listen(&mut self, path: &Path) -> io::Result<()> {
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        listener.set_nonblocking(true)?;
        self.poll.registry().register(
            &mut SourceFd(&listener.as_raw_fd()),
            LISTENER,
            mio::Interest::READABLE,
        )?;
        self.control = Some(Control {
            listener,
            path: path.to_path_buf(),
            clients: Default::default(),
            victim: 0,
        });
        Ok(())
    }

    /// The control socket's tokens; others are ignored.
    pub(super) fn on_control(&mut self, t: Token) {
        match t.0 {
            _ if t == LISTENER => self.on_listener(),
            c if (CLIENT_BASE..CLIENT_BASE + MAX_CLIENTS).contains(&c) => {
                self.on_client(c - CLIENT_BASE)
            }
            _ => {}
        }
    }

    fn on_listener(&mut self) {
        loop {
            let Some(c) = self.control.as_mut() else {
                return;
            };
            let stream = match c.listener.accept() {
                Ok((s, _)) => s,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    warn!("control socket: accept failed: {e}");
                    return;
                }
            };
            if stream.set_nonblocking(true).is_err() {
                continue;
            }
            let slot = c
                .clients
                .iter()
                .position(Option::is_none)
                .unwrap_or_else(|| {
                    c.victim = (c.victim + 1) % MAX_CLIENTS;
                    c.victim
                });
            self.drop_client(slot);
            let token = Token(CLIENT_BASE + slot);
            let reg = self.poll.registry().register(
                &mut SourceFd(&stream.as_raw_fd()),
                token,
                mio::Interest::READABLE,
            );
            if let (Ok(()), Some(c)) = (reg, self.control.as_mut()) {
                c.clients[slot] = Some(Client {
                    stream,
                    buf: heapless::Vec::new(),
                });
                // The request may have arrived with the connection.
                self.on_client(slot);
            }
        }
    }

    fn on_client(&mut self, slot: usize) {
        let Some(Some(client)) = self.control.as_mut().and_then(|c| c.clients.get_mut(slot)) else {
            return;
        };
        let mut chunk = [0u8; MAX_REQUEST];
        let line = loop {
            match client.stream.read(&mut chunk) {
                Ok(0) => break None,
                Ok(n) => {
                    if client.buf.extend_from_slice(&chunk[..n]).is_err() {
                        break None;
                    }
                    if let Some(end) = client.buf.iter().position(|&b| b == b'\n') {
                        break Some(String::from_utf8_lossy(&client.buf[..end]).into_owned());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break None,
            }
        };
        if let Some(req) = line {
            let answer = self.answer(req.trim());
            if let Some(Some(client)) = self.control.as_mut().and_then(|c| c.clients.get_mut(slot))
            {
                // Non-blocking: an answer that does not fit the socket buffer is cut, not waited on.
                let _ = client.stream.write_all(answer.as_bytes());
            }
        }
        self.drop_client(slot);
    }

    fn drop_client(&mut self, slot: usize) {
        let Some(c) = self.control.as_mut() else {
            return;
        };
        if let Some(old) = c.clients.get_mut(slot).and_then(Option::take) {
            let _ = self
                .poll
                .registry()
                .deregister(&mut SourceFd(&old.stream.as_raw_fd()));
        }
    }

    fn answer(&self, req: &str) -> String {
        let views = self.views();
        match req {
            "status" => status::lines(&views, clock::now()),
            "json" => status::json(&views) + "\n",
            "stats" => status::stats(&views),
            "data" => status::data(&self.global, &views),
            _ => format!("error unknown request '{req}' (status, json, stats, data)\n"),
        }
    }

    /// Each instance as the dumps show it.
    fn views(&self) -> Vec<View<'_>> {
        self.routers
            .iter()
            .map(|r| {
                let unrouted = self.ifaces.get(r.iface).map(|f| &f.unrouted);
                View {
                    cfg: &r.cfg,
                    state: r.core.state(),
                    priority: r.core.priority(),
                    master_adver_int_cs: r.core.master_adver_int_cs(),
                    adverts_rx: r.adverts_rx,
                    adverts_tx: r.adverts_tx,
                    drops: unrouted.map_or_else(|| r.drops.clone(), |u| r.drops.plus(u)),
                    stats: &r.stats,
                    src: r.source(&self.ifaces),
                    ifindex: self.ifaces.get(r.iface).map_or(0, |f| f.ifindex),
                }
            })
            .collect()
    }

    /// Writes one of keepalived's dump files, as asked by its signal.
    pub(super) fn write_dump(&self, what: Dump) {
        let views = self.views();
        let body = match what {
            Dump::Json => status::json(&views),
            Dump::Data => status::data(&self.global, &views),
            Dump::Stats => status::stats(&views),
        };
        match status::write_atomic(what.file(), &body) {
            Ok(p) => info!("Wrote {}", p.display()),
            Err(e) => warn!(
                "cannot write {}: {e}",
                status::dump_dir().join(what.file()).display()
            ),
        }
    }
}
