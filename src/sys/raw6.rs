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

use super::os;

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
        let mut sa = sockaddr_in6(dst);
        // Link-local and link-scope multicast need the interface; the kernel ignores it for
        // global destinations.
        sa.sin6_scope_id = self.ifindex;
        let info = libc::in6_pktinfo {
            ipi6_addr: in6_addr(src),
            ipi6_ifindex: self.ifindex,
        };
        let mut cbuf = CmsgBuf([0; CMSG_BUF_LEN]);
        // SAFETY: CMSG_SPACE is arithmetic on a constant.
        let space = unsafe { libc::CMSG_SPACE(mem::size_of::<libc::in6_pktinfo>() as u32) };
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
        msg.msg_control = cbuf.0.as_mut_ptr().cast();
        // `as _`: the field is size_t with glibc, socklen_t (u32) with musl.
        msg.msg_controllen = space as _;
        // SAFETY: msg_control points at `cbuf`, aligned and at least `space` bytes (checked by
        // the assertion on CMSG_BUF_LEN), so the first header and its data lie inside it.
        unsafe {
            let c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = libc::IPPROTO_IPV6;
            (*c).cmsg_type = libc::IPV6_PKTINFO;
            (*c).cmsg_len = libc::CMSG_LEN(mem::size_of::<libc::in6_pktinfo>() as u32) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<libc::in6_pktinfo>(), info);
        }
        let sent = os::retry(|| {
            // SAFETY: `msg` and everything it points to (sa, iov over `payload`, cbuf) live
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

    /// Reads one VRRP message (the IPv6 payload; the kernel strips the header) into `buf`,
    /// with where it came from. WouldBlock passes through. A message longer than `buf` is cut
    /// to its length, which the VRRP parser detects. A datagram without its hop limit or packet
    /// info (never seen: the options are set at open) is `InvalidData`.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<(Meta, usize)> {
        // SAFETY: sockaddr_in6 is plain integers; all-zero is a valid value.
        let mut sa: libc::sockaddr_in6 = unsafe { mem::zeroed() };
        let mut cbuf = CmsgBuf([0; CMSG_BUF_LEN]);
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
        msg.msg_control = cbuf.0.as_mut_ptr().cast();
        msg.msg_controllen = CMSG_BUF_LEN as _;
        let n = os::retry(|| {
            // SAFETY: every pointer in `msg` refers to a live, writable buffer of the stated
            // length (sa, buf through iov, cbuf); the kernel writes within those lengths.
            os::cvt_len(unsafe { libc::recvmsg(self.fd.as_raw_fd(), &mut msg, 0) })
        })?;
        let (mut hop_limit, mut info) = (None, None);
        // SAFETY: the kernel set msg_controllen to what it wrote into cbuf; CMSG_FIRSTHDR and
        // CMSG_NXTHDR stay within it, and each data read is checked against cmsg_len first.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                let data_len = ((*c).cmsg_len as usize).saturating_sub(libc::CMSG_LEN(0) as usize);
                let data = libc::CMSG_DATA(c);
                match ((*c).cmsg_level, (*c).cmsg_type) {
                    (libc::IPPROTO_IPV6, libc::IPV6_HOPLIMIT)
                        if data_len >= mem::size_of::<libc::c_int>() =>
                    {
                        let v = std::ptr::read_unaligned(data.cast::<libc::c_int>());
                        hop_limit = u8::try_from(v).ok();
                    }
                    (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO)
                        if data_len >= mem::size_of::<libc::in6_pktinfo>() =>
                    {
                        info = Some(std::ptr::read_unaligned(data.cast::<libc::in6_pktinfo>()));
                    }
                    _ => {}
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        let (Some(hop_limit), Some(info)) = (hop_limit, info) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "raw IPv6 socket: datagram without hop limit or packet info",
            ));
        };
        let meta = Meta {
            src: Ipv6Addr::from(sa.sin6_addr.s6_addr),
            dst: Ipv6Addr::from(info.ipi6_addr.s6_addr),
            hop_limit,
            ifindex: info.ipi6_ifindex,
        };
        Ok((meta, n.min(buf.len())))
    }
}

impl AsRawFd for Vrrp6Socket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// Room for IPV6_HOPLIMIT (an int) and IPV6_PKTINFO (20 bytes), each with its header.
const CMSG_BUF_LEN: usize = 128;
const _: () = {
    // SAFETY: CMSG_SPACE is arithmetic on constants.
    let need = unsafe {
        libc::CMSG_SPACE(mem::size_of::<libc::c_int>() as u32)
            + libc::CMSG_SPACE(mem::size_of::<libc::in6_pktinfo>() as u32)
    };
    assert!(need as usize <= CMSG_BUF_LEN);
};

/// A control-message buffer aligned as `cmsghdr` needs.
#[repr(C, align(8))]
struct CmsgBuf([u8; CMSG_BUF_LEN]);

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
