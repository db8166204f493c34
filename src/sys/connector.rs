//! The kernel's process connector (NETLINK_CONNECTOR, CN_IDX_PROC): one datagram per fork,
//! exec, name change and exit of any process, so `track_process` learns of them in the same loop
//! turn instead of polling /proc.
//!
//! Two limits decide whether it can be used (see README, "Tracking processes"):
//! - the connector's kernel socket exists only in the initial network namespace: from any other
//!   one the subscription is refused with ECONNREFUSED;
//! - the kernel ignores subscriptions from outside the initial user and PID namespaces, and before
//!   Linux 6.6 refuses them (EPERM) without CAP_NET_ADMIN. Neither case gets an error from
//!   send(2), so [`Connector::open`] waits for the kernel's acknowledgement and fails without it.
//!
//! The decoder is pure and reads fields byte by byte; tests feed it datagrams recorded from the
//! kernel.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::Duration;

use super::netlink::{bind, recv_from_kernel};
use super::os;

/// `NETLINK_CONNECTOR` and the process connector's id (linux/connector.h).
const NETLINK_CONNECTOR: libc::c_int = 11;
const CN_IDX_PROC: u32 = 1;
const CN_VAL_PROC: u32 = 1;
/// `PROC_CN_MCAST_LISTEN` (linux/cn_proc.h).
const PROC_CN_MCAST_LISTEN: u32 = 1;

const NLMSG_HDRLEN: usize = 16;
const NLMSG_NOOP: u16 = 1;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
/// `struct cn_msg`: id (idx, val), seq, ack, len (u16), flags (u16).
const CN_MSG_LEN: usize = 20;
/// `struct proc_event` up to its union: what, cpu, timestamp_ns.
const EVENT_HDR_LEN: usize = 16;

/// `enum what` of `struct proc_event`.
const PROC_EVENT_NONE: u32 = 0;
const PROC_EVENT_FORK: u32 = 0x1;
const PROC_EVENT_EXEC: u32 = 0x2;
const PROC_EVENT_COMM: u32 = 0x200;
const PROC_EVENT_EXIT: u32 = 0x8000_0000;

/// How long `open` waits for the kernel to acknowledge the subscription. The ack comes back
/// within microseconds when it comes at all.
const ACK_WAIT: Duration = Duration::from_millis(250);
/// One event datagram is 76 bytes; this is room for any the kernel might send.
const BUF: usize = 1024;
/// A fork storm should not overflow the socket queue before the loop gets to it.
const RCVBUF: libc::c_int = 1024 * 1024;

/// What the kernel reports about a process. Threads are told apart by `pid != tgid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcEvent {
    /// The answer to a subscription: 0, or the errno the kernel refused it with.
    Ack {
        err: u32,
    },
    /// `child_pid == child_tgid` for a new process, not for a new thread.
    Fork {
        parent_tgid: i32,
        child_pid: i32,
        child_tgid: i32,
    },
    Exec {
        pid: i32,
        tgid: i32,
    },
    /// prctl(PR_SET_NAME) or a write to /proc/PID/comm; `comm` is NUL-padded.
    Comm {
        pid: i32,
        tgid: i32,
        comm: [u8; 16],
    },
    Exit {
        pid: i32,
        tgid: i32,
    },
}

impl ProcEvent {
    /// `comm` of a Comm event up to its NUL.
    pub fn comm_bytes(comm: &[u8; 16]) -> &[u8] {
        let end = comm.iter().position(|&b| b == 0).unwrap_or(comm.len());
        &comm[..end]
    }
}

/// Why a datagram could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    Truncated,
    BadLength,
}

impl core::fmt::Display for ParseError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ParseError::Truncated => "process connector: truncated message",
            ParseError::BadLength => "process connector: bad length field",
        })
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_ne_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
}

fn i32_at(b: &[u8], at: usize) -> Option<i32> {
    u32_at(b, at).map(|v| v as i32)
}

/// Decodes every message of one datagram and hands the process events to `f`, in order.
/// Messages for another connector, acks of our own requests and event kinds nobody tracks
/// (uid, gid, sid, ptrace, coredump) are skipped; a message too short for the event it names is
/// an error, and so is broken framing.
pub fn parse(buf: &[u8], f: &mut dyn FnMut(ProcEvent)) -> Result<(), ParseError> {
    let mut rest = buf;
    while !rest.is_empty() {
        let len = u32_at(rest, 0).ok_or(ParseError::Truncated)? as usize;
        let ty = u16_at(rest, 4).ok_or(ParseError::Truncated)?;
        if len < NLMSG_HDRLEN {
            return Err(ParseError::BadLength);
        }
        let msg = rest.get(NLMSG_HDRLEN..len).ok_or(ParseError::Truncated)?;
        // The last message may omit its padding.
        let used = len.div_ceil(4).saturating_mul(4).min(rest.len());
        rest = rest.get(used..).unwrap_or(&[]);
        if ty == NLMSG_NOOP || ty == NLMSG_ERROR {
            continue;
        }
        if ty != NLMSG_DONE {
            // The kernel sends each event as NLMSG_DONE; anything else is not an event.
            continue;
        }
        if let Some(ev) = decode(msg)? {
            f(ev);
        }
    }
    Ok(())
}

/// One connector message (`struct cn_msg` and its data).
fn decode(msg: &[u8]) -> Result<Option<ProcEvent>, ParseError> {
    let t = ParseError::Truncated;
    let idx = u32_at(msg, 0).ok_or(t)?;
    let val = u32_at(msg, 4).ok_or(t)?;
    let data_len = usize::from(u16_at(msg, 16).ok_or(t)?);
    if idx != CN_IDX_PROC || val != CN_VAL_PROC {
        return Ok(None);
    }
    let data = msg
        .get(CN_MSG_LEN..CN_MSG_LEN.saturating_add(data_len))
        .ok_or(t)?;
    let what = u32_at(data, 0).ok_or(t)?;
    let body = data.get(EVENT_HDR_LEN..).ok_or(t)?;
    let at = |i: usize| i32_at(body, i).ok_or(t);
    Ok(Some(match what {
        PROC_EVENT_NONE => ProcEvent::Ack {
            err: u32_at(body, 0).ok_or(t)?,
        },
        PROC_EVENT_FORK => ProcEvent::Fork {
            parent_tgid: at(4)?,
            child_pid: at(8)?,
            child_tgid: at(12)?,
        },
        PROC_EVENT_EXEC => ProcEvent::Exec {
            pid: at(0)?,
            tgid: at(4)?,
        },
        PROC_EVENT_COMM => {
            let raw = body.get(8..24).ok_or(t)?;
            let mut comm = [0u8; 16];
            comm.copy_from_slice(raw);
            ProcEvent::Comm {
                pid: at(0)?,
                tgid: at(4)?,
                comm,
            }
        }
        PROC_EVENT_EXIT => ProcEvent::Exit {
            pid: at(0)?,
            tgid: at(4)?,
        },
        _ => return Ok(None),
    }))
}

/// The subscription request: nlmsghdr + cn_msg + the op.
fn listen_request(port: u32) -> [u8; NLMSG_HDRLEN + CN_MSG_LEN + 4] {
    let mut m = [0u8; NLMSG_HDRLEN + CN_MSG_LEN + 4];
    let len = m.len() as u32;
    m[0..4].copy_from_slice(&len.to_ne_bytes());
    m[4..6].copy_from_slice(&NLMSG_DONE.to_ne_bytes());
    m[12..16].copy_from_slice(&port.to_ne_bytes());
    let cn = &mut m[NLMSG_HDRLEN..];
    cn[0..4].copy_from_slice(&CN_IDX_PROC.to_ne_bytes());
    cn[4..8].copy_from_slice(&CN_VAL_PROC.to_ne_bytes());
    cn[16..18].copy_from_slice(&4u16.to_ne_bytes());
    cn[20..24].copy_from_slice(&PROC_CN_MCAST_LISTEN.to_ne_bytes());
    m
}

/// Why the connector cannot be used; the daemon falls back to pidfds and /proc scans.
#[derive(Debug)]
pub enum OpenError {
    /// socket, bind or send failed (ECONNREFUSED outside the initial network namespace,
    /// EPROTONOSUPPORT without CONFIG_PROC_EVENTS).
    Io(io::Error),
    /// The kernel answered the subscription with this errno (EPERM: no CAP_NET_ADMIN).
    Refused(u32),
    /// No answer: the kernel ignores subscribers outside the initial user or PID namespace, and
    /// older kernels say nothing when they refuse one.
    NoAck,
}

impl core::fmt::Display for OpenError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            OpenError::Io(e) if e.raw_os_error() == Some(libc::ECONNREFUSED) => write!(
                f,
                "{e} (the process connector only works in the initial network namespace)"
            ),
            OpenError::Io(e) => write!(f, "{e}"),
            OpenError::Refused(err) => write!(
                f,
                "the kernel refused the subscription: {} (it needs CAP_NET_ADMIN before Linux 6.6)",
                io::Error::from_raw_os_error(*err as i32)
            ),
            OpenError::NoAck => f.write_str(
                "the kernel did not acknowledge the subscription (outside the initial user or PID namespace, or no CAP_NET_ADMIN)",
            ),
        }
    }
}

impl From<io::Error> for OpenError {
    fn from(e: io::Error) -> Self {
        OpenError::Io(e)
    }
}

/// A non-blocking socket subscribed to process events.
pub struct Connector {
    fd: OwnedFd,
    buf: Box<[u8; BUF]>,
}

impl Connector {
    /// Opens, subscribes and waits (at most 250 ms, once at start-up) for the kernel's ack.
    pub fn open() -> Result<Connector, OpenError> {
        let fd = os::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            NETLINK_CONNECTOR,
        )?;
        // Best effort: an overflow is recovered from by a /proc scan anyway.
        let _ = os::setsockopt(&fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &RCVBUF);
        bind(&fd, CN_IDX_PROC)?;
        let port = local_port(&fd)?;
        let mut kernel: libc::sockaddr_nl = zeroed_sockaddr_nl();
        kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        os::sendto(&fd, &listen_request(port), &kernel)?;
        let mut c = Connector {
            fd,
            buf: Box::new([0; BUF]),
        };
        c.wait_ack()?;
        Ok(c)
    }

    fn wait_ack(&mut self) -> Result<(), OpenError> {
        let deadline = std::time::Instant::now() + ACK_WAIT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(OpenError::NoAck);
            }
            let mut pfd = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = left.as_millis().clamp(1, 1000) as libc::c_int;
            // SAFETY: one live pollfd, and its count.
            let n = unsafe { libc::poll(&mut pfd, 1, ms) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e.into());
            }
            let mut ack = None;
            // Events of other processes may come before the ack; they predate the start-up
            // scan that follows, so dropping them loses nothing.
            self.recv(&mut |ev| {
                if let ProcEvent::Ack { err } = ev {
                    ack.get_or_insert(err);
                }
            })
            .or_else(|e| {
                if e.raw_os_error() == Some(libc::ENOBUFS) {
                    Ok(())
                } else {
                    Err(e)
                }
            })?;
            match ack {
                Some(0) => return Ok(()),
                Some(err) => return Err(OpenError::Refused(err)),
                None => {}
            }
        }
    }

    /// Hands the events of up to `budget` datagrams to `f`. Ok(true) if the socket may hold
    /// more (come back after the other sources); Err with raw_os_error ENOBUFS if events were
    /// lost (the caller rescans /proc).
    pub fn recv_some(&mut self, budget: usize, f: &mut dyn FnMut(ProcEvent)) -> io::Result<bool> {
        for _ in 0..budget {
            match os::retry(|| recv_from_kernel(&self.fd, &mut self.buf[..])) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
                Ok(None) => {}
                Ok(Some(n)) => {
                    if let Err(e) = parse(&self.buf[..n.min(BUF)], f) {
                        log::debug!("process connector datagram skipped: {e}");
                    }
                }
            }
        }
        Ok(true)
    }

    /// Everything queued, to `f`.
    fn recv(&mut self, f: &mut dyn FnMut(ProcEvent)) -> io::Result<()> {
        while self.recv_some(64, f)? {}
        Ok(())
    }
}

impl AsRawFd for Connector {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

fn zeroed_sockaddr_nl() -> libc::sockaddr_nl {
    // SAFETY: sockaddr_nl is plain integers plus private padding; all-zero is valid.
    unsafe { std::mem::zeroed() }
}

/// The port the kernel gave our socket at bind, which the request's header names.
fn local_port(fd: &OwnedFd) -> io::Result<u32> {
    let mut sa = zeroed_sockaddr_nl();
    let mut len = std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
    // SAFETY: `sa` and `len` are live and describe each other; the kernel writes at most `len`.
    let ret = unsafe {
        libc::getsockname(
            fd.as_raw_fd(),
            (&mut sa as *mut libc::sockaddr_nl).cast(),
            &mut len,
        )
    };
    os::cvt(ret)?;
    Ok(sa.nl_pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Datagrams recorded on x86_64 (Linux 6.18) in the initial namespaces (with
    /// scripts/record-proc-events.py; the thread pair with an earlier version): the ack of our
    /// subscription, then a child forked (pid 12607 of 12551), renamed with prctl, exec'd and
    /// exited; then a thread created and ended in another process.
    const ACK: &str = "4c0000000300000080080000000000000100000001000000800800000100000028000000000000000100000011c44c6869000000000000000000000000000000000000000000000000000000";
    const FORK: &str = "4c00000003000000810800000000000001000000010000008108000000000000280000000100000001000000ebd359686900000007310000073100003f3100003f3100000000000000000000";
    const COMM: &str = "4c000000030000006c0b00000000000001000000010000006c0b000000000000280000000002000000000000d8597168690000003f3100003f3100007031352d72656e616d65640000000000";
    const EXEC: &str = "4c000000030000006d0b00000000000001000000010000006d0b0000000000002800000002000000000000007c708068690000003f3100003f31000000000000000000000000000000000000";
    const EXIT: &str = "4c000000030000006e0b00000000000001000000010000006e0b000000000000280000000000008000000000144d8968690000003f3100003f31000000000000110000000731000007310000";
    const THREAD: &str = "4c00000003000000af040000000000000100000001000000af04000000000000280000000100000001000000895c6ee9660000001a2e0000152e00008b2e00001b2e00000000000000000000";
    const THREAD_EXIT: &str = "4c000000030000004d0500000000000001000000010000004d05000000000000280000000000008001000000c840c22667000000f52e00001b2e000000000000ffffffff0000000000000000";
    /// An ack as seen by a subscriber without CAP_NET_ADMIN on a pre-6.6 kernel: err = EPERM
    /// (the recorded ACK with the err field patched; this kernel no longer refuses).
    const ACK_EPERM: &str = "4c0000000300000080080000000000000100000001000000800800000100000028000000000000000100000011c44c6869000000010000000000000000000000000000000000000000000000";

    fn one(h: &str) -> ProcEvent {
        let mut got = Vec::new();
        parse(&hex(h), &mut |e| got.push(e)).unwrap();
        assert_eq!(got.len(), 1, "{got:?}");
        got[0]
    }

    #[test]
    fn recorded_events_decode() {
        assert_eq!(one(ACK), ProcEvent::Ack { err: 0 });
        assert_eq!(one(ACK_EPERM), ProcEvent::Ack { err: 1 });
        assert_eq!(
            one(FORK),
            ProcEvent::Fork {
                parent_tgid: 12551,
                child_pid: 12607,
                child_tgid: 12607
            }
        );
        let ProcEvent::Comm { pid, tgid, comm } = one(COMM) else {
            panic!("not a comm event")
        };
        assert_eq!((pid, tgid), (12607, 12607));
        assert_eq!(ProcEvent::comm_bytes(&comm), b"p15-renamed");
        assert_eq!(
            one(EXEC),
            ProcEvent::Exec {
                pid: 12607,
                tgid: 12607
            }
        );
        assert_eq!(
            one(EXIT),
            ProcEvent::Exit {
                pid: 12607,
                tgid: 12607
            }
        );
        // A thread: child pid and tgid differ, and so do they at its exit.
        assert_eq!(
            one(THREAD),
            ProcEvent::Fork {
                parent_tgid: 0x2e15,
                child_pid: 0x2e8b,
                child_tgid: 0x2e1b
            }
        );
        assert_eq!(
            one(THREAD_EXIT),
            ProcEvent::Exit {
                pid: 0x2ef5,
                tgid: 0x2e1b
            }
        );
    }

    #[test]
    fn several_messages_in_a_datagram_and_broken_ones() {
        let mut two = hex(FORK);
        two.extend(hex(EXIT));
        let mut got = Vec::new();
        parse(&two, &mut |e| got.push(e)).unwrap();
        assert_eq!(got.len(), 2);
        // Cut anywhere: an error or fewer events, never a panic or a made-up event.
        let full = hex(EXIT);
        for cut in 0..full.len() {
            let mut n = 0;
            let r = parse(&full[..cut], &mut |_| n += 1);
            assert!(r.is_err() || cut == 0, "cut at {cut}");
            assert_eq!(n, 0);
        }
        // A length below the header's own.
        let mut bad = hex(EXIT);
        bad[0] = 8;
        assert_eq!(parse(&bad, &mut |_| {}), Err(ParseError::BadLength));
        // Another connector's message is skipped.
        let mut other = hex(EXIT);
        other[16] = 7;
        let mut n = 0;
        parse(&other, &mut |_| n += 1).unwrap();
        assert_eq!(n, 0);
        // An event kind nobody tracks (PROC_EVENT_UID) is skipped.
        let mut uid = hex(EXEC);
        uid[36..40].copy_from_slice(&4u32.to_ne_bytes());
        parse(&uid, &mut |_| n += 1).unwrap();
        assert_eq!(n, 0);
    }

    #[test]
    fn request_is_what_the_kernel_expects() {
        let m = listen_request(77);
        assert_eq!(m.len(), 40);
        assert_eq!(u32_at(&m, 0), Some(40));
        assert_eq!(u16_at(&m, 4), Some(NLMSG_DONE));
        assert_eq!(u32_at(&m, 12), Some(77));
        assert_eq!(u32_at(&m, 16), Some(CN_IDX_PROC));
        assert_eq!(u16_at(&m, 32), Some(4));
        assert_eq!(u32_at(&m, 36), Some(PROC_CN_MCAST_LISTEN));
    }

    /// Whether this process runs in the initial network namespace (that of PID 1).
    fn in_initial_netns() -> Option<bool> {
        let me = std::fs::read_link("/proc/self/ns/net").ok()?;
        let init = std::fs::read_link("/proc/1/ns/net").ok()?;
        Some(me == init)
    }

    /// Live: in the initial namespace the connector reports a child's fork, exec and exit; in
    /// any other network namespace it is refused with ECONNREFUSED, which the daemon turns
    /// into its fallback. (/proc/1/ns/net may be unreadable, so whether this runs in the
    /// initial namespace is only known when it says otherwise.)
    #[test]
    fn live_connector_sees_a_child_or_is_refused_outside_the_initial_netns() {
        let initial = in_initial_netns();
        let mut c = match Connector::open() {
            Ok(c) => {
                assert_ne!(
                    initial,
                    Some(false),
                    "connector opened outside the initial netns"
                );
                c
            }
            Err(OpenError::Io(e)) if e.raw_os_error() == Some(libc::ECONNREFUSED) => {
                assert_ne!(initial, Some(true), "refused in the initial netns: {e}");
                return;
            }
            // In a container's user or PID namespace no ack ever comes.
            Err(OpenError::NoAck) if std::env::var_os("CI").is_none() => return,
            Err(e) => panic!("process connector: {e}"),
        };
        let mut child = std::process::Command::new("/bin/true").spawn().unwrap();
        let pid = child.id() as i32;
        child.wait().unwrap();
        let (mut fork, mut exec, mut exit) = (false, false, false);
        let end = std::time::Instant::now() + Duration::from_secs(5);
        while !(fork && exec && exit) && std::time::Instant::now() < end {
            let _ = c.recv_some(64, &mut |ev| match ev {
                ProcEvent::Fork { child_tgid, .. } if child_tgid == pid => fork = true,
                ProcEvent::Exec { tgid, .. } if tgid == pid => exec = true,
                ProcEvent::Exit { pid: p, tgid } if tgid == pid && p == pid => exit = true,
                _ => {}
            });
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(fork && exec && exit, "fork {fork} exec {exec} exit {exit}");
    }
}
