//! An AF_PACKET socket for sending ready-made Ethernet frames (gratuitous ARP). Protocol 0 means
//! the kernel hands it no incoming frames, so it never fills up and needs no reading.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use super::mmsg;
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
        let sa = link_addr(ifindex, frame)?;
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

impl PacketSocket {
    /// Sends each `(ifindex, frame)` of `frames` as `send` would, in as few system calls as the
    /// kernel allows (sendmmsg): the announcements of many instances becoming master at once.
    /// `failed(i, error)` hears of each one refused; the rest go. Returns how many went.
    pub fn send_batch(
        &self,
        frames: &[(u32, &[u8])],
        mut failed: impl FnMut(usize, io::Error),
    ) -> usize {
        let mut sent = 0;
        for (c, chunk) in frames.chunks(mmsg::TX_CHUNK).enumerate() {
            let base = c * mmsg::TX_CHUNK;
            // Frames that cannot be addressed are reported here and not sent.
            let mut ok: heapless::Vec<(usize, libc::sockaddr_ll), { mmsg::TX_CHUNK }> =
                heapless::Vec::new();
            for (j, &(ifindex, frame)) in chunk.iter().enumerate() {
                match link_addr(ifindex, frame) {
                    Ok(sa) => {
                        let _ = ok.push((base + j, sa));
                    }
                    Err(e) => failed(base + j, e),
                }
            }
            sent += mmsg::send_all(
                &self.fd,
                ok.len(),
                |i, slot| {
                    let (f, sa) = &ok[i];
                    mmsg::set_name(slot, sa);
                    frames[*f].1
                },
                |i, e| failed(ok[i].0, e),
            );
        }
        sent
    }
}

/// Where `frame` goes: interface `ifindex`, its EtherType and destination MAC.
fn link_addr(ifindex: u32, frame: &[u8]) -> io::Result<libc::sockaddr_ll> {
    if frame.len() < ETH_HEADER_LEN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "packet socket: frame shorter than an Ethernet header",
        ));
    }
    let ifindex = libc::c_int::try_from(ifindex)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface index too large"))?;
    // SAFETY: sockaddr_ll is plain integers; all-zero is a valid value.
    let mut sa: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sa.sll_family = libc::AF_PACKET as libc::c_ushort;
    // The frame's EtherType, already in network order as sll_protocol wants it.
    sa.sll_protocol = u16::from_ne_bytes([frame[12], frame[13]]);
    sa.sll_ifindex = ifindex;
    sa.sll_halen = 6;
    sa.sll_addr[..6].copy_from_slice(&frame[..6]);
    Ok(sa)
}

impl AsRawFd for PacketSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
