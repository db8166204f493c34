//! The VRRP socket of one interface: raw IPv4, protocol 112, bound to the device. We build the
//! whole IP header ourselves (IP_HDRINCL) so that TTL 255 and the source address are exactly
//! what the RFC asks, and we read whole IP packets so the receiver can check them.

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use super::bpf::{self, Rule};
use super::mmsg::{self, RxBatch};
use super::os;
use super::rxmeta::{self, Meta};

/// IANA protocol number of VRRP.
const IPPROTO_VRRP: libc::c_int = 112;

pub struct VrrpSocket {
    fd: OwnedFd,
}

impl VrrpSocket {
    /// Opens the socket for interface `ifname` (index `ifindex`).
    pub fn open(ifname: &str, ifindex: u32) -> io::Result<VrrpSocket> {
        check_ifname(ifname)?;
        let fd = os::socket(
            libc::AF_INET,
            libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            IPPROTO_VRRP,
        )?;
        let one: libc::c_int = 1;
        os::setsockopt(&fd, libc::IPPROTO_IP, libc::IP_HDRINCL, &one)?;
        // Only this interface's adverts, and ours leave through it whatever the routes say.
        os::setsockopt_bytes(
            &fd,
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            ifname.as_bytes(),
        )?;
        // Our own adverts must not come back to us as if from a peer.
        let zero: libc::c_int = 0;
        os::setsockopt(&fd, libc::IPPROTO_IP, libc::IP_MULTICAST_LOOP, &zero)?;
        let ttl: libc::c_int = 255;
        os::setsockopt(&fd, libc::IPPROTO_IP, libc::IP_MULTICAST_TTL, &ttl)?;
        let mreq = mreqn(Ipv4Addr::UNSPECIFIED, ifindex)?;
        match os::setsockopt(&fd, libc::IPPROTO_IP, libc::IP_MULTICAST_IF, &mreq) {
            // qemu-user does not emulate this option; SO_BINDTODEVICE already picks the device.
            Err(e) if e.raw_os_error() == Some(libc::ENOPROTOOPT) => {
                log::debug!("{ifname}: IP_MULTICAST_IF not supported, relying on the bound device");
            }
            other => other?,
        }
        Ok(VrrpSocket { fd })
    }

    /// Joins multicast `group` on interface `ifindex`.
    pub fn join(&self, group: Ipv4Addr, ifindex: u32) -> io::Result<()> {
        let mreq = mreqn(group, ifindex)?;
        os::setsockopt(&self.fd, libc::IPPROTO_IP, libc::IP_ADD_MEMBERSHIP, &mreq)
    }

    /// Leaves multicast `group` on interface `ifindex`.
    pub fn leave(&self, group: Ipv4Addr, ifindex: u32) -> io::Result<()> {
        let mreq = mreqn(group, ifindex)?;
        os::setsockopt(&self.fd, libc::IPPROTO_IP, libc::IP_DROP_MEMBERSHIP, &mreq)
    }

    /// Sends `packet` (IPv4 header + VRRP message) towards `dst`, which picks the route; the
    /// header's own destination is what goes on the wire.
    pub fn send_to(&self, packet: &[u8], dst: Ipv4Addr) -> io::Result<()> {
        let sa = sockaddr_in(dst);
        let sent = os::retry(|| os::sendto(&self.fd, packet, &sa))?;
        if sent != packet.len() {
            // Raw datagrams go whole or not at all; a short count means something is off.
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "raw socket: packet only partly sent",
            ));
        }
        Ok(())
    }

    /// Sends each `(packet, dst)` of `pkts` as `send_to` would, in as few system calls as the
    /// kernel allows (sendmmsg). `failed(i, error)` hears of each one refused; the rest go.
    /// Returns how many went.
    pub fn send_batch(
        &self,
        pkts: &[(&[u8], Ipv4Addr)],
        failed: impl FnMut(usize, io::Error),
    ) -> usize {
        mmsg::send_all(
            &self.fd,
            pkts.len(),
            |i, slot| {
                let (bytes, dst) = pkts[i];
                mmsg::set_name(slot, &sockaddr_in(dst));
                bytes
            },
            failed,
        )
    }

    /// Reads up to `max` whole IPv4 packets into `batch` in one system call (recvmmsg), each
    /// with its arrival time and the overflow count (see `rxmeta`). WouldBlock when none waits.
    pub fn recv_batch(&self, batch: &mut RxBatch, max: usize) -> io::Result<usize> {
        batch.recv(&self.fd, max)
    }

    /// Queues only the VRRP that `rules` admit (see `bpf`); replaces the filter it had.
    /// Returns whether passwords are checked by the filter too.
    pub fn set_filter(&self, rules: &[Rule]) -> io::Result<bool> {
        bpf::attach_rules(&self.fd, bpf::Start::AfterIpv4Header, rules)
    }

    /// Sets the receive queue to `bytes` (see `os::set_rcvbuf`).
    pub fn set_rcvbuf(&self, bytes: u32) -> io::Result<()> {
        os::set_rcvbuf(&self.fd, bytes)
    }

    /// Asks for each packet's arrival time and the queue's overflow count (see `rxmeta`).
    pub fn enable_meta(&self) -> (io::Result<()>, io::Result<()>) {
        rxmeta::enable(&self.fd)
    }

    /// `recv`, with what the kernel said about the packet.
    pub fn recv_meta(&self, buf: &mut [u8]) -> io::Result<Meta> {
        os::retry(|| rxmeta::recv(&self.fd, buf))
    }

    /// Reads one whole IPv4 packet (header included) into `buf`; WouldBlock passes through.
    /// A packet longer than `buf` is cut to its length, which the parser detects from the
    /// IP total length.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        os::retry(|| os::recv(&self.fd, buf, 0))
    }
}

impl AsRawFd for VrrpSocket {
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

fn in_addr(a: Ipv4Addr) -> libc::in_addr {
    libc::in_addr {
        // The octets are already in network order; keep them as they are in memory.
        s_addr: u32::from_ne_bytes(a.octets()),
    }
}

fn mreqn(group: Ipv4Addr, ifindex: u32) -> io::Result<libc::ip_mreqn> {
    let ifindex = libc::c_int::try_from(ifindex)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface index too large"))?;
    Ok(libc::ip_mreqn {
        imr_multiaddr: in_addr(group),
        imr_address: in_addr(Ipv4Addr::UNSPECIFIED),
        imr_ifindex: ifindex,
    })
}

fn sockaddr_in(a: Ipv4Addr) -> libc::sockaddr_in {
    // SAFETY: sockaddr_in is plain integers plus padding; all-zero is a valid value.
    let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    sa.sin_family = libc::AF_INET as libc::sa_family_t;
    sa.sin_addr = in_addr(a);
    sa
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_names_are_refused_before_any_syscall() {
        for name in ["", "a-name-that-is-too-long", "a\0b"] {
            let err = VrrpSocket::open(name, 1).err().unwrap();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{name:?}");
        }
    }

    #[test]
    fn in_addr_is_network_order() {
        let a = in_addr(Ipv4Addr::new(224, 0, 0, 18));
        assert_eq!(a.s_addr.to_ne_bytes(), [224, 0, 0, 18]);
    }
}
