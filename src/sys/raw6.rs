//! The VRRP socket of one interface for IPv6: raw, protocol 112, bound to the device. Unlike
//! IPv4 there is no header-included mode, so what the wire needs comes and goes as control
//! messages: the hop limit (255, sent and checked, RFC 5798 section 5.1.2.3), the destination
//! and the interface (IPV6_PKTINFO); the source comes with the datagram's address.
//!
//! The VRRP checksum is ours to compute and check (`wire::vrrp` with the IPv6 pseudo-header):
//! the socket leaves IPV6_CHECKSUM off. With it set to offset 6 the kernel would fill the field
//! on send but also drop every advert with a bad checksum before we see it, and RFC 5798
//! section 7.1 wants such a packet counted (keepalived's and FRR's captures carry the checksum
//! over the pseudo-header, which `wire::vrrp` verifies).

use std::io;
use std::mem;
use std::net::Ipv6Addr;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::Duration;

use super::bpf::{self, Rule};
use super::mmsg::{self, RxBatch};
use super::os;
use super::rxmeta::{self, Control};

/// IANA protocol number of VRRP.
const IPPROTO_VRRP: libc::c_int = 112;
/// Traffic class we send: CS6, internetwork control, as for IPv4 (FRR and keepalived do too).
const TCLASS_INTERNETWORK_CONTROL: libc::c_int = 0xc0;

/// Where an advert came from and how it arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub hop_limit: u8,
    pub ifindex: u32,
    /// As for IPv4 (see `rxmeta`): the overflow count and the arrival time, once `enable_meta`.
    pub overflows: Option<u32>,
    pub stamp: Option<Duration>,
}

impl Meta {
    /// From the datagram's source and its control messages. One without its hop limit or packet
    /// info (never seen: the options are set at open) is `InvalidData`.
    fn new(src: Ipv6Addr, m: &rxmeta::Meta) -> io::Result<Meta> {
        let (Some(hop_limit), Some((dst, ifindex))) = (m.hop_limit, m.pktinfo) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "raw IPv6 socket: datagram without hop limit or packet info",
            ));
        };
        Ok(Meta {
            src,
            dst,
            hop_limit,
            ifindex,
            overflows: m.overflows,
            stamp: m.stamp,
        })
    }
}

pub struct Vrrp6Socket {
    fd: OwnedFd,
    ifindex: u32,
}

impl Vrrp6Socket {
    /// Opens the socket for interface `ifname` (index `ifindex`): bound to the device, hop
    /// limit 255 for multicast and unicast, no loopback of our own multicast, hop limit and
    /// packet info reported on receive, the checksum left to us. Call `join(MULTICAST_V6)` to
    /// hear the group.
    pub fn open(ifname: &str, ifindex: u32) -> io::Result<Vrrp6Socket> {
        check_ifname(ifname)?;
        let c_ifindex = c_ifindex(ifindex)?;
        let fd = os::socket(
            libc::AF_INET6,
            libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            IPPROTO_VRRP,
        )?;
        // Only this interface's adverts, and ours leave through it whatever the routes say.
        os::setsockopt_bytes(
            &fd,
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            ifname.as_bytes(),
        )?;
        let set =
            |name: libc::c_int, v: libc::c_int| os::setsockopt(&fd, libc::IPPROTO_IPV6, name, &v);
        // -1 (the default for protocols other than ICMPv6, said here so nobody "fixes" it): the
        // kernel neither fills nor verifies, so a bad checksum reaches us and is counted.
        set(libc::IPV6_CHECKSUM, -1)?;
        set(libc::IPV6_MULTICAST_HOPS, 255)?;
        set(libc::IPV6_UNICAST_HOPS, 255)?;
        // Our own adverts must not come back to us as if from a peer.
        set(libc::IPV6_MULTICAST_LOOP, 0)?;
        set(libc::IPV6_RECVHOPLIMIT, 1)?;
        set(libc::IPV6_RECVPKTINFO, 1)?;
        match set(libc::IPV6_TCLASS, TCLASS_INTERNETWORK_CONTROL) {
            // Only a marking; qemu-user may not emulate it.
            Err(e) if e.raw_os_error() == Some(libc::ENOPROTOOPT) => {}
            other => other?,
        }
        match set(libc::IPV6_MULTICAST_IF, c_ifindex) {
            // As for IPv4: SO_BINDTODEVICE already picks the device.
            Err(e) if e.raw_os_error() == Some(libc::ENOPROTOOPT) => {
                log::debug!(
                    "{ifname}: IPV6_MULTICAST_IF not supported, relying on the bound device"
                );
            }
            other => other?,
        }
        Ok(Vrrp6Socket { fd, ifindex })
    }

    /// The interface the socket is bound to.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// Joins multicast `group` (ff02::12) on the socket's interface.
    pub fn join(&self, group: Ipv6Addr) -> io::Result<()> {
        let mreq = mreq(group, self.ifindex)?;
        os::setsockopt(
            &self.fd,
            libc::IPPROTO_IPV6,
            libc::IPV6_ADD_MEMBERSHIP,
            &mreq,
        )
    }

    /// Leaves multicast `group` on the socket's interface.
    pub fn leave(&self, group: Ipv6Addr) -> io::Result<()> {
        let mreq = mreq(group, self.ifindex)?;
        os::setsockopt(
            &self.fd,
            libc::IPPROTO_IPV6,
            libc::IPV6_DROP_MEMBERSHIP,
            &mreq,
        )
    }

    /// Sends `payload` (a VRRP message whose checksum the caller computed over the pseudo-header
    /// of `src` and `dst`) to `dst` (ff02::12 or a peer) from `src`, which must be an address
    /// of the interface (its link-local, RFC 5798 section 5.1.2.1). Hop limit 255.
    pub fn send(&self, payload: &[u8], src: Ipv6Addr, dst: Ipv6Addr) -> io::Result<()> {
        let mut sa = self.dest(dst);
        let mut control = Control::new();
        let space = pktinfo(&mut control.0, src, self.ifindex);
        let mut iov = libc::iovec {
            iov_base: payload.as_ptr() as *mut libc::c_void,
            iov_len: payload.len(),
        };
        // SAFETY: msghdr is plain integers and pointers; all-zero is a valid value.
        let mut msg: libc::msghdr = unsafe { mem::zeroed() };
        msg.msg_name = (&mut sa as *mut libc::sockaddr_in6).cast();
        msg.msg_namelen = mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.0.as_mut_ptr().cast();
        // `as _`: the field is size_t with glibc, socklen_t (u32) with musl.
        msg.msg_controllen = space as _;
        let sent = os::retry(|| {
            // SAFETY: `msg` and everything it points to (sa, iov over `payload`, control) live
            // across the call; the kernel only reads them.
            os::cvt_len(unsafe { libc::sendmsg(self.fd.as_raw_fd(), &msg, 0) })
        })?;
        if sent != payload.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "raw IPv6 socket: advert only partly sent",
            ));
        }
        Ok(())
    }

    /// Sends each `(payload, src, dst)` of `msgs` as `send` would, in as few system calls as
    /// the kernel allows (sendmmsg). `failed(i, error)` hears of each one refused; the rest go.
    /// Returns how many went.
    pub fn send_batch(
        &self,
        msgs: &[(&[u8], Ipv6Addr, Ipv6Addr)],
        failed: impl FnMut(usize, io::Error),
    ) -> usize {
        mmsg::send_all(
            &self.fd,
            msgs.len(),
            |i, slot| {
                let (payload, src, dst) = msgs[i];
                mmsg::set_name(slot, &self.dest(dst));
                slot.controllen = pktinfo(&mut slot.control.0, src, self.ifindex);
                payload
            },
            failed,
        )
    }

    /// The socket address of `dst`: link-local and link-scope multicast need the interface;
    /// the kernel ignores it for global destinations.
    fn dest(&self, dst: Ipv6Addr) -> libc::sockaddr_in6 {
        let mut sa = sockaddr_in6(dst);
        sa.sin6_scope_id = self.ifindex;
        sa
    }

    /// Reads one VRRP message (the IPv6 payload; the kernel strips the header) into `buf`,
    /// with where it came from. WouldBlock passes through. A message longer than `buf` is cut
    /// to its length, which the VRRP parser detects. A datagram without its hop limit or packet
    /// info (never seen: the options are set at open) is `InvalidData`.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<(Meta, usize)> {
        // SAFETY: sockaddr_in6 is plain integers; all-zero is a valid value.
        let mut sa: libc::sockaddr_in6 = unsafe { mem::zeroed() };
        let mut control = Control::new();
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: as in `send`.
        let mut msg: libc::msghdr = unsafe { mem::zeroed() };
        msg.msg_name = (&mut sa as *mut libc::sockaddr_in6).cast();
        msg.msg_namelen = mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.0.as_mut_ptr().cast();
        msg.msg_controllen = rxmeta::CONTROL_LEN as _;
        let n = os::retry(|| {
            // SAFETY: every pointer in `msg` refers to a live, writable buffer of the stated
            // length (sa, buf through iov, control); the kernel writes within those lengths.
            os::cvt_len(unsafe { libc::recvmsg(self.fd.as_raw_fd(), &mut msg, 0) })
        })?;
        // SAFETY: the kernel just filled the control buffer and set its length.
        let m = unsafe { rxmeta::parse(&msg, n) };
        let meta = Meta::new(Ipv6Addr::from(sa.sin6_addr.s6_addr), &m)?;
        Ok((meta, n.min(buf.len())))
    }

    /// Reads up to `max` VRRP messages into `batch` in one system call (recvmmsg); see
    /// [`Vrrp6Socket::meta_of`] for each one's metadata. WouldBlock when none waits.
    pub fn recv_batch(&self, batch: &mut RxBatch, max: usize) -> io::Result<usize> {
        batch.recv(&self.fd, max)
    }

    /// Message `i` of `batch` and where it came from (`InvalidData` as for `recv`).
    pub fn meta_of(batch: &RxBatch, i: usize) -> Option<io::Result<(Meta, &[u8])>> {
        let (bytes, m) = batch.get(i)?;
        let src = batch.src6(i)?;
        Some(Meta::new(src, m).map(|meta| (meta, bytes)))
    }

    /// Queues only the VRRP that `rules` admit (see `bpf`; the message starts at byte 0, as
    /// the kernel hands an IPv6 raw socket the payload only); replaces the filter it had.
    /// Returns, as for IPv4, whether the whole program fitted (VRRPv3 has no passwords).
    pub fn set_filter(&self, rules: &[Rule]) -> io::Result<bool> {
        bpf::attach_rules(&self.fd, bpf::Start::Payload, rules)
    }

    /// Sets the receive queue to `bytes` (see `os::set_rcvbuf`).
    pub fn set_rcvbuf(&self, bytes: u32) -> io::Result<()> {
        os::set_rcvbuf(&self.fd, bytes)
    }

    /// Asks for each packet's arrival time and the queue's overflow count (see `rxmeta`).
    pub fn enable_meta(&self) -> (io::Result<()>, io::Result<()>) {
        rxmeta::enable(&self.fd)
    }
}

/// Writes an IPV6_PKTINFO message for source `src` on `ifindex` into `control` (aligned as
/// cmsghdr wants: `Control` or `SendControl`); the bytes used.
fn pktinfo(control: &mut [u8], src: Ipv6Addr, ifindex: u32) -> usize {
    let info = libc::in6_pktinfo {
        ipi6_addr: in6_addr(src),
        ipi6_ifindex: ifindex,
    };
    let size = mem::size_of::<libc::in6_pktinfo>() as u32;
    // SAFETY: msghdr is plain integers and pointers; all-zero is a valid value. It only tells
    // CMSG_FIRSTHDR where the buffer is.
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = control.len() as _;
    // SAFETY: both callers' buffers are 8-byte aligned and longer than CMSG_SPACE of one
    // in6_pktinfo (checked where they are defined), so the first header and its data lie inside.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::IPPROTO_IPV6;
        (*c).cmsg_type = libc::IPV6_PKTINFO;
        (*c).cmsg_len = libc::CMSG_LEN(size) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<libc::in6_pktinfo>(), info);
        libc::CMSG_SPACE(size) as usize
    }
}

impl AsRawFd for Vrrp6Socket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Interface names are at most IFNAMSIZ - 1 bytes and cannot hold a NUL.
fn check_ifname(ifname: &str) -> io::Result<()> {
    if ifname.is_empty() || ifname.len() >= libc::IFNAMSIZ || ifname.contains('\0') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad interface name {ifname:?}"),
        ));
    }
    Ok(())
}

fn c_ifindex(ifindex: u32) -> io::Result<libc::c_int> {
    libc::c_int::try_from(ifindex)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface index too large"))
}

fn in6_addr(a: Ipv6Addr) -> libc::in6_addr {
    libc::in6_addr {
        s6_addr: a.octets(),
    }
}

fn mreq(group: Ipv6Addr, ifindex: u32) -> io::Result<libc::ipv6_mreq> {
    Ok(libc::ipv6_mreq {
        ipv6mr_multiaddr: in6_addr(group),
        ipv6mr_interface: c_ifindex(ifindex)? as libc::c_uint,
    })
}

fn sockaddr_in6(a: Ipv6Addr) -> libc::sockaddr_in6 {
    // SAFETY: sockaddr_in6 is plain integers; all-zero is a valid value.
    let mut sa: libc::sockaddr_in6 = unsafe { mem::zeroed() };
    sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
    sa.sin6_addr = in6_addr(a);
    sa
}

#[cfg(test)]
mod tests;
