//! Many datagrams per system call: `recvmmsg` into a fixed set of buffers, `sendmmsg` from a
//! list. The kernel's cost of a VRRP advert is mostly the cost of entering it once per packet
//! (the benchmark's profile), so a master of many instances sends each tick's adverts in one
//! call per socket, and a busy receiver drains its queue a batch at a time. No allocation after
//! start-up: the receive buffers live in [`RxBatch`] (allocated once, zeroed by the allocator,
//! so pages no packet ever reached cost no memory), the send headers on the stack.

use std::io;
use std::mem;
use std::net::Ipv6Addr;
use std::os::fd::AsRawFd;

use super::rxmeta::{self, Control, Meta};
use crate::limits::MAX_PACKET;

/// Datagrams one `recvmmsg` reads at most.
pub const RX_BATCH: usize = 16;

/// Datagrams one `sendmmsg` sends at most; a longer list takes more calls.
pub const TX_CHUNK: usize = 64;

/// The buffers, control buffers and source addresses of one batch of received datagrams, and
/// what the kernel said about each.
pub struct RxBatch {
    bufs: Box<[[u8; MAX_PACKET]]>,
    control: [Control; RX_BATCH],
    /// Big enough for either family's address.
    names: [libc::sockaddr_in6; RX_BATCH],
    metas: [Meta; RX_BATCH],
    count: usize,
}

impl Default for RxBatch {
    fn default() -> Self {
        Self::new()
    }
}

impl RxBatch {
    pub fn new() -> RxBatch {
        RxBatch {
            bufs: vec![[0; MAX_PACKET]; RX_BATCH].into_boxed_slice(),
            control: [Control::new(); RX_BATCH],
            // SAFETY: sockaddr_in6 is plain integers; all-zero is a valid value.
            names: [unsafe { mem::zeroed() }; RX_BATCH],
            metas: [Meta::default(); RX_BATCH],
            count: 0,
        }
    }

    /// How many datagrams the last `recv` read.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Datagram `i` of the last `recv` (cut to the buffer, which the parsers detect) and what
    /// came with it.
    pub fn get(&self, i: usize) -> Option<(&[u8], &Meta)> {
        if i >= self.count {
            return None;
        }
        let m = &self.metas[i];
        Some((&self.bufs[i][..m.len.min(MAX_PACKET)], m))
    }

    /// The IPv6 source address of datagram `i` (for an IPv6 socket).
    pub fn src6(&self, i: usize) -> Option<Ipv6Addr> {
        (i < self.count).then(|| Ipv6Addr::from(self.names[i].sin6_addr.s6_addr))
    }

    /// One `recvmmsg` of at most `max` (and `RX_BATCH`) datagrams, without waiting: how many.
    /// WouldBlock when none is queued; EINTR is retried.
    pub fn recv(&mut self, fd: &impl AsRawFd, max: usize) -> io::Result<usize> {
        self.count = 0;
        let want = max.clamp(1, RX_BATCH);
        // SAFETY: iovec and mmsghdr are plain integers and pointers; all-zero is valid.
        let mut iovs: [libc::iovec; RX_BATCH] = unsafe { mem::zeroed() };
        let mut hdrs: [libc::mmsghdr; RX_BATCH] = unsafe { mem::zeroed() };
        for (i, buf) in self.bufs.iter_mut().enumerate().take(want) {
            iovs[i] = libc::iovec {
                iov_base: buf.as_mut_ptr().cast(),
                iov_len: MAX_PACKET,
            };
            let h = &mut hdrs[i].msg_hdr;
            h.msg_name = (&mut self.names[i] as *mut libc::sockaddr_in6).cast();
            h.msg_namelen = mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
            h.msg_iov = &mut iovs[i];
            h.msg_iovlen = 1;
            h.msg_control = self.control[i].0.as_mut_ptr().cast();
            // `as _`: size_t with glibc, socklen_t with musl.
            h.msg_controllen = rxmeta::CONTROL_LEN as _;
        }
        let n = super::os::retry(|| {
            // SAFETY: the first `want` headers point at live buffers of this batch (names,
            // iovecs over `bufs`, control buffers) of the lengths given; the kernel writes
            // within them. No timeout pointer.
            let rc = unsafe {
                libc::recvmmsg(
                    fd.as_raw_fd(),
                    hdrs.as_mut_ptr(),
                    want as _,
                    libc::MSG_DONTWAIT as _,
                    std::ptr::null_mut(),
                )
            };
            super::os::cvt(rc)
        })?;
        let n = (n as usize).min(want);
        for (i, h) in hdrs.iter().enumerate().take(n) {
            // SAFETY: the kernel filled message i's control buffer and set its length.
            self.metas[i] = unsafe { rxmeta::parse(&h.msg_hdr, h.msg_len as usize) };
        }
        self.count = n;
        Ok(n)
    }
}

/// One datagram's destination and control data, filled in by the socket that sends it. Small,
/// as 64 of them sit on the stack: room for the largest address we send to (sockaddr_in6) and
/// one IPV6_PKTINFO message.
pub struct Slot {
    /// The destination address, of the socket's family; `namelen` of it counts.
    name: libc::sockaddr_in6,
    namelen: libc::socklen_t,
    pub control: SendControl,
    /// Bytes of `control` in use; 0 for none.
    pub controllen: usize,
}

/// Room for one IPV6_PKTINFO message, aligned as cmsghdr wants.
#[derive(Clone, Copy)]
#[repr(C, align(8))]
pub struct SendControl(pub [u8; SEND_CONTROL_LEN]);

pub const SEND_CONTROL_LEN: usize = 64;
const _: () = {
    // SAFETY: CMSG_SPACE is arithmetic on constants.
    let need = unsafe { libc::CMSG_SPACE(mem::size_of::<libc::in6_pktinfo>() as u32) };
    assert!(need as usize <= SEND_CONTROL_LEN);
};

/// Sends `count` datagrams with as few `sendmmsg` calls as the kernel allows: datagram `i` is
/// what `fill(i, slot)` returns, to where it wrote into the slot. A datagram the kernel refuses
/// (or sends short, which a raw socket never does) is reported to `failed(i, error)` and the
/// rest still go. Returns how many went.
pub fn send_all<'a>(
    fd: &impl AsRawFd,
    count: usize,
    mut fill: impl FnMut(usize, &mut Slot) -> &'a [u8],
    mut failed: impl FnMut(usize, io::Error),
) -> usize {
    let mut sent = 0;
    let mut base = 0;
    while base < count {
        let n = (count - base).min(TX_CHUNK);
        // SAFETY: Slot, iovec and mmsghdr are plain integers and pointers; all-zero is valid.
        let mut slots: [Slot; TX_CHUNK] = unsafe { mem::zeroed() };
        let mut iovs: [libc::iovec; TX_CHUNK] = unsafe { mem::zeroed() };
        let mut hdrs: [libc::mmsghdr; TX_CHUNK] = unsafe { mem::zeroed() };
        for j in 0..n {
            let bytes = fill(base + j, &mut slots[j]);
            iovs[j] = libc::iovec {
                iov_base: bytes.as_ptr() as *mut libc::c_void,
                iov_len: bytes.len(),
            };
        }
        for j in 0..n {
            let s = &mut slots[j];
            let h = &mut hdrs[j].msg_hdr;
            h.msg_name = (&mut s.name as *mut libc::sockaddr_in6).cast();
            h.msg_namelen = s.namelen;
            h.msg_iov = &mut iovs[j];
            h.msg_iovlen = 1;
            if s.controllen > 0 {
                h.msg_control = s.control.0.as_mut_ptr().cast();
                h.msg_controllen = s.controllen.min(SEND_CONTROL_LEN) as _;
            }
        }
        let mut at = 0;
        while at < n {
            // SAFETY: headers at..n point at live slots and iovecs over the caller's bytes
            // (borrowed for 'a), all outliving the call; the kernel only reads them.
            let rc = unsafe {
                libc::sendmmsg(fd.as_raw_fd(), hdrs[at..].as_mut_ptr(), (n - at) as _, 0)
            };
            match super::os::cvt(rc) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // The kernel stops at the first datagram it refuses and, when that is the
                // first one, says why: report it and go on past it.
                Err(e) => {
                    failed(base + at, e);
                    at += 1;
                }
                Ok(k) => {
                    let k = (k as usize).clamp(1, n - at);
                    for j in at..at + k {
                        if hdrs[j].msg_len as usize == iovs[j].iov_len {
                            sent += 1;
                        } else {
                            let e = io::Error::new(
                                io::ErrorKind::WriteZero,
                                "datagram only partly sent",
                            );
                            failed(base + j, e);
                        }
                    }
                    at += k;
                }
            }
        }
        base += n;
    }
    sent
}

/// Writes `addr` (a sockaddr_in, sockaddr_in6 or sockaddr_ll) into `slot`.
pub fn set_name<A: Copy>(slot: &mut Slot, addr: &A) {
    const { assert!(mem::size_of::<A>() <= mem::size_of::<libc::sockaddr_in6>()) };
    // SAFETY: `A` fits in the slot's address (checked above); the write is unaligned.
    unsafe {
        std::ptr::write_unaligned(
            (&mut slot.name as *mut libc::sockaddr_in6).cast::<A>(),
            *addr,
        );
    }
    slot.namelen = mem::size_of::<A>() as libc::socklen_t;
}
