//! An AF_PACKET socket for sending ready-made Ethernet frames (gratuitous ARP). Protocol 0 means
//! the kernel hands it no incoming frames, so it never fills up and needs no reading.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use super::os;

/// Destination MAC (6) + source MAC (6) + EtherType (2).
const ETH_HEADER_LEN: usize = 14;

pub struct PacketSocket {
    fd: OwnedFd,
}

impl PacketSocket {
    pub fn open() -> io::Result<PacketSocket> {
        let fd = os::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )?;
        Ok(PacketSocket { fd })
    }

    /// Sends `frame`, a whole Ethernet frame (header included), out of interface `ifindex`.
    pub fn send(&self, ifindex: u32, frame: &[u8]) -> io::Result<()> {
        if frame.len() < ETH_HEADER_LEN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "packet socket: frame shorter than an Ethernet header",
            ));
        }
        let ifindex = libc::c_int::try_from(ifindex).map_err(|_| {
            io::Error::new(io::ErrorKind::InvalidInput, "interface index too large")
        })?;
        // SAFETY: sockaddr_ll is plain integers; all-zero is a valid value.
        let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sa.sll_family = libc::AF_PACKET as libc::c_ushort;
        // The frame's EtherType, already in network order as sll_protocol wants it.
        sa.sll_protocol = u16::from_ne_bytes([frame[12], frame[13]]);
        sa.sll_ifindex = ifindex;
        sa.sll_halen = 6;
        sa.sll_addr[..6].copy_from_slice(&frame[..6]);
        let sent = os::retry(|| os::sendto(&self.fd, frame, &sa))?;
        if sent != frame.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "packet socket: frame only partly sent",
            ));
        }
        Ok(())
    }
}

impl AsRawFd for PacketSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
