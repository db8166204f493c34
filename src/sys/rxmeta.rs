//! What the kernel says about each received datagram besides its bytes: when it arrived
//! (SO_TIMESTAMPNS) and how many datagrams the socket has dropped so far because its queue
//! was full (SO_RXQ_OVFL), and for IPv6 the hop limit and destination. One parser for the
//! VRRP sockets of both families, single reads and batches alike.
//!
//! The arrival time matters to a backup that was starved of CPU: an advert that reached the
//! queue before Master_Down_Interval ran out counts, however late we get to read it.

use std::io;
use std::mem;
use std::net::Ipv6Addr;
use std::os::fd::AsRawFd;
use std::time::Duration;

use super::os;
use crate::time::Instant;

/// SO_TIMESTAMPNS_NEW (linux/asm-generic/socket.h, also MIPS): a 64-bit timespec on every
/// target, so 32-bit musl (time64) and the kernel agree on the layout. Linux 5.1 and later.
const SO_TIMESTAMPNS_NEW: libc::c_int = 64;

/// What came with one datagram.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Meta {
    /// Datagram length, as recv(2) returns it.
    pub len: usize,
    /// The socket's count of datagrams dropped for a full queue, when the kernel sent it (it
    /// does once the count is non-zero).
    pub overflows: Option<u32>,
    /// When the kernel took the datagram in, on the realtime clock.
    pub stamp: Option<Duration>,
    /// IPv6 only (IPV6_RECVHOPLIMIT): the hop limit it arrived with.
    pub hop_limit: Option<u8>,
    /// IPv6 only (IPV6_RECVPKTINFO): the address it was sent to and the interface it came in on.
    pub pktinfo: Option<(Ipv6Addr, u32)>,
}

/// Asks the kernel for both. Either can be missing (an old kernel, qemu-user): the caller
/// then gets `None` for it and goes on without.
pub fn enable(fd: &impl AsRawFd) -> (io::Result<()>, io::Result<()>) {
    let one: libc::c_int = 1;
    let ovfl = os::setsockopt(fd, libc::SOL_SOCKET, libc::SO_RXQ_OVFL, &one);
    let stamp = os::setsockopt(fd, libc::SOL_SOCKET, SO_TIMESTAMPNS_NEW, &one);
    (ovfl, stamp)
}

/// Room for every control message either family gets (overflow count, stamp, hop limit,
/// packet info), aligned as cmsghdr wants.
pub const CONTROL_LEN: usize = 128;
const _: () = {
    // SAFETY: CMSG_SPACE is arithmetic on constants.
    let need = unsafe {
        libc::CMSG_SPACE(4)
            + libc::CMSG_SPACE(16)
            + libc::CMSG_SPACE(mem::size_of::<libc::c_int>() as u32)
            + libc::CMSG_SPACE(mem::size_of::<libc::in6_pktinfo>() as u32)
    };
    assert!(need as usize <= CONTROL_LEN);
};

#[derive(Clone, Copy)]
#[repr(C, align(8))]
pub struct Control(pub [u8; CONTROL_LEN]);

impl Default for Control {
    fn default() -> Control {
        Control::new()
    }
}

impl Control {
    pub const fn new() -> Control {
        Control([0; CONTROL_LEN])
    }
}

/// recvmsg(2) of one datagram into `buf`, with its control messages.
pub fn recv(fd: &impl AsRawFd, buf: &mut [u8]) -> io::Result<Meta> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut control = Control::new();
    // SAFETY: msghdr is plain integers and pointers; all-zero is a valid value.
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.0.as_mut_ptr().cast();
    msg.msg_controllen = control.0.len() as _;
    // SAFETY: `msg` points at one live iovec over `buf` and at the live control buffer, both
    // of the lengths given; the kernel writes only within them.
    let n = unsafe { libc::recvmsg(fd.as_raw_fd(), &mut msg, 0) };
    let len = os::cvt_len(n)?;
    // SAFETY: the kernel just filled `msg`'s control buffer and set its length.
    Ok(unsafe { parse(&msg, len) })
}

/// The one control-message parser of both families (recvmsg and each message of recvmmsg):
/// what `msg` carries, for a datagram of `len` bytes.
///
/// # Safety
/// `msg.msg_control` must point at `msg.msg_controllen` readable bytes, as the kernel leaves
/// them after a receive.
pub unsafe fn parse(msg: &libc::msghdr, len: usize) -> Meta {
    let mut meta = Meta {
        len,
        ..Meta::default()
    };
    // SAFETY: the CMSG_* walk stays within msg_controllen bytes of the control buffer (the
    // caller's promise); each payload is read unaligned and only when long enough.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(msg);
        while !c.is_null() {
            let h = &*c;
            let data = libc::CMSG_DATA(c);
            let payload = (h.cmsg_len as usize).saturating_sub(libc::CMSG_LEN(0) as usize);
            match (h.cmsg_level, h.cmsg_type) {
                (libc::SOL_SOCKET, libc::SO_RXQ_OVFL) if payload >= 4 => {
                    meta.overflows = Some(data.cast::<u32>().read_unaligned());
                }
                (libc::SOL_SOCKET, SO_TIMESTAMPNS_NEW) if payload >= 16 => {
                    let secs = data.cast::<i64>().read_unaligned();
                    let nanos = data.add(8).cast::<i64>().read_unaligned();
                    meta.stamp = stamp(secs, nanos);
                }
                (libc::IPPROTO_IPV6, libc::IPV6_HOPLIMIT)
                    if payload >= mem::size_of::<libc::c_int>() =>
                {
                    let v = data.cast::<libc::c_int>().read_unaligned();
                    meta.hop_limit = u8::try_from(v).ok();
                }
                (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO)
                    if payload >= mem::size_of::<libc::in6_pktinfo>() =>
                {
                    let info = data.cast::<libc::in6_pktinfo>().read_unaligned();
                    meta.pktinfo =
                        Some((Ipv6Addr::from(info.ipi6_addr.s6_addr), info.ipi6_ifindex));
                }
                _ => {}
            }
            c = libc::CMSG_NXTHDR(msg, c);
        }
    }
    meta
}

fn stamp(secs: i64, nanos: i64) -> Option<Duration> {
    let secs = u64::try_from(secs).ok()?;
    let nanos = u32::try_from(nanos).ok().filter(|&n| n < 1_000_000_000)?;
    Some(Duration::new(secs, nanos))
}

/// The realtime clock now, since the epoch.
fn realtime() -> Option<Duration> {
    let mut ts = super::clock::zero_timespec();
    // SAFETY: `ts` is a live, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    if rc != 0 {
        return None;
    }
    // time_t and c_long are 32 bits on some targets, where the conversion is not a no-op.
    #[allow(clippy::useless_conversion)]
    stamp(i64::from(ts.tv_sec), i64::from(ts.tv_nsec))
}

/// When a datagram stamped `stamp` (realtime) arrived, on the monotonic clock, given that the
/// monotonic clock reads `now`: `now` minus its age. An age the clocks cannot explain (the
/// realtime clock was set while it sat in the queue) is taken as none: never later than `now`,
/// and never earlier than `max_age` ago.
pub fn arrival(stamp: Option<Duration>, now: Instant, max_age: Duration) -> Instant {
    let age = match (stamp, realtime()) {
        (Some(s), Some(r)) => r.checked_sub(s).filter(|&a| a <= max_age),
        _ => None,
    };
    match age {
        Some(a) => Instant::from_micros(now.as_micros().saturating_sub(a.as_micros() as u64)),
        None => now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrival_is_now_minus_the_age() {
        let now = Instant::from_micros(50_000_000);
        let r = realtime().expect("realtime clock");
        let a = arrival(
            Some(r - Duration::from_millis(300)),
            now,
            Duration::from_secs(5),
        );
        let age = now - a;
        assert!(
            age >= Duration::from_millis(300) && age < Duration::from_millis(400),
            "{age:?}"
        );
        // No stamp, a stamp from the future, one older than the bound: now.
        assert_eq!(arrival(None, now, Duration::from_secs(5)), now);
        let future = r + Duration::from_secs(60);
        assert_eq!(arrival(Some(future), now, Duration::from_secs(5)), now);
        let old = r - Duration::from_secs(60);
        assert_eq!(arrival(Some(old), now, Duration::from_secs(5)), now);
    }

    #[test]
    fn udp_datagrams_come_with_a_stamp() {
        let rx = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let (ovfl, ts) = enable(&rx);
        ovfl.expect("SO_RXQ_OVFL");
        ts.expect("SO_TIMESTAMPNS_NEW");
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let before = realtime().expect("clock");
        tx.send_to(b"hello", rx.local_addr().expect("addr"))
            .expect("send");
        let mut buf = [0u8; 16];
        let m = recv(&rx, &mut buf).expect("recv");
        assert_eq!(m.len, 5);
        let s = m.stamp.expect("a timestamp");
        assert!(
            s >= before - Duration::from_millis(1),
            "{s:?} before {before:?}"
        );
        // Nothing dropped yet: the kernel sends the count once it is non-zero (or 0).
        assert!(m.overflows.unwrap_or(0) == 0, "{m:?}");
        // A small queue and a burst. Each datagram carries the count as it was when it was
        // queued, so the one queued after the losses tells of them.
        let small: libc::c_int = 4096;
        os::setsockopt(&rx, libc::SOL_SOCKET, libc::SO_RCVBUF, &small).expect("SO_RCVBUF");
        let to = rx.local_addr().expect("addr");
        for _ in 0..1000 {
            let _ = tx.send_to(b"flood", to);
        }
        rx.set_nonblocking(true).expect("nonblocking");
        while recv(&rx, &mut buf).is_ok() {}
        tx.send_to(b"after", to).expect("send");
        rx.set_nonblocking(false).expect("blocking");
        let m = recv(&rx, &mut buf).expect("recv");
        assert!(
            m.overflows.is_some_and(|n| n > 0),
            "1000 datagrams into 4 KiB: {m:?}"
        );
    }
}
