//! What the instances send, gathered and sent together: the adverts of one timer tick (the
//! instances of a link send in phase, see `Daemon::join_phase`) and the announcements of
//! instances becoming master at once leave in one `sendmmsg` per socket instead of one system
//! call each. Datagrams are copied into a fixed arena as the actions are carried out and sent
//! when the daemon is done with what fell due together (or the arena is full), in the order
//! they were queued on each socket.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};

use log::debug;

use super::iface::Iface;
use crate::sys::packet::PacketSocket;

/// Datagrams held at most before they are sent: more than one tick of 255 multicast adverts
/// takes two calls, which is still two instead of 255.
const ITEMS: usize = 128;
/// Bytes held at most (an advert with 32 IPv6 addresses is 520 bytes, a typical one 40).
const ARENA: usize = 16 * 1024;

/// Where a queued datagram goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum To {
    /// A whole IPv4 packet, through interface `iface`'s IPv4 VRRP socket.
    V4 { iface: u16, dst: Ipv4Addr },
    /// A VRRP message, through interface `iface`'s IPv6 VRRP socket.
    V6 {
        iface: u16,
        src: Ipv6Addr,
        dst: Ipv6Addr,
    },
    /// An Ethernet frame, through the packet socket out of `ifindex`.
    Frame { ifindex: u32 },
}

impl To {
    /// The socket a datagram leaves through: items with the same key go in one call.
    fn socket(&self) -> (u8, u16) {
        match *self {
            To::V4 { iface, .. } => (4, iface),
            To::V6 { iface, .. } => (6, iface),
            To::Frame { .. } => (0, 0),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Item {
    to: To,
    start: u16,
    len: u16,
    /// The instance that queued it, told of a failure.
    router: u16,
}

pub struct Tx {
    /// Allocated once; zeroed by the allocator, so only what a batch ever filled is resident.
    arena: Box<[u8]>,
    used: usize,
    items: heapless::Vec<Item, ITEMS>,
    /// Instances whose advert the kernel refused since the last `take_failed`, one entry per
    /// advert (adverts are counted when queued and uncounted from here).
    failed: heapless::Vec<u16, ITEMS>,
}

impl Default for Tx {
    fn default() -> Self {
        Self::new()
    }
}

impl Tx {
    pub fn new() -> Tx {
        Tx {
            arena: vec![0; ARENA].into_boxed_slice(),
            used: 0,
            items: heapless::Vec::new(),
            failed: heapless::Vec::new(),
        }
    }

    /// Queues `bytes` for `to`, on behalf of instance `router`; sends what is queued first if
    /// there is no room left.
    pub fn push(
        &mut self,
        to: To,
        router: usize,
        bytes: &[u8],
        ifaces: &[Iface],
        garp: &PacketSocket,
    ) {
        if self.items.is_full() || ARENA - self.used < bytes.len() {
            self.flush(ifaces, garp);
        }
        let (Ok(start), Ok(len), Some(dst)) = (
            u16::try_from(self.used),
            u16::try_from(bytes.len()),
            self.arena.get_mut(self.used..self.used + bytes.len()),
        ) else {
            // Longer than the arena: never, adverts and frames are a few hundred bytes.
            debug!(
                "datagram of {} bytes does not fit the send batch",
                bytes.len()
            );
            return;
        };
        dst.copy_from_slice(bytes);
        self.used += bytes.len();
        let router = u16::try_from(router).unwrap_or(u16::MAX);
        let _ = self.items.push(Item {
            to,
            start,
            len,
            router,
        });
    }

    /// Whether anything waits to be sent.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Sends everything queued: one `sendmmsg` per socket (per 64 datagrams), each socket's
    /// datagrams in the order they were queued.
    pub fn flush(&mut self, ifaces: &[Iface], garp: &PacketSocket) {
        let items = std::mem::take(&mut self.items);
        let arena = &self.arena;
        let bytes = |it: &Item| &arena[usize::from(it.start)..][..usize::from(it.len)];
        let mut done = [false; ITEMS];
        for first in 0..items.len() {
            if done[first] {
                continue;
            }
            let key = items[first].to.socket();
            let mut group: heapless::Vec<usize, ITEMS> = heapless::Vec::new();
            for (j, it) in items.iter().enumerate().skip(first) {
                if !done[j] && it.to.socket() == key {
                    done[j] = true;
                    let _ = group.push(j);
                }
            }
            let f = ifaces.get(usize::from(key.1));
            let on = f.map_or("?", |f| f.name.as_str());
            let sink = &mut self.failed;
            let mut failed = |g: usize, e: io::Error| {
                let it = &items[group[g]];
                if !matches!(it.to, To::Frame { .. }) {
                    let _ = sink.push(it.router);
                }
                match it.to {
                    To::V4 { dst, .. } => debug!("advert to {dst} on {on} failed: {e}"),
                    To::V6 { dst, .. } => debug!("advert to {dst} on {on} failed: {e}"),
                    To::Frame { ifindex } => {
                        debug!("announcement on interface {ifindex} failed: {e}")
                    }
                }
            };
            let gone = io::ErrorKind::NotConnected;
            match items[first].to {
                To::V4 { .. } => {
                    let Some(sock) = f.and_then(|f| f.v4.sock.as_ref()) else {
                        (0..group.len()).for_each(|g| failed(g, gone.into()));
                        continue;
                    };
                    let pkts: heapless::Vec<(&[u8], Ipv4Addr), ITEMS> = group
                        .iter()
                        .filter_map(|&j| match items[j].to {
                            To::V4 { dst, .. } => Some((bytes(&items[j]), dst)),
                            _ => None,
                        })
                        .collect();
                    sock.send_batch(&pkts, &mut failed);
                }
                To::V6 { .. } => {
                    let Some(sock) = f.and_then(|f| f.v6.sock.as_ref()) else {
                        (0..group.len()).for_each(|g| failed(g, gone.into()));
                        continue;
                    };
                    let msgs: heapless::Vec<(&[u8], Ipv6Addr, Ipv6Addr), ITEMS> = group
                        .iter()
                        .filter_map(|&j| match items[j].to {
                            To::V6 { src, dst, .. } => Some((bytes(&items[j]), src, dst)),
                            _ => None,
                        })
                        .collect();
                    sock.send_batch(&msgs, &mut failed);
                }
                To::Frame { .. } => {
                    let frames: heapless::Vec<(u32, &[u8]), ITEMS> = group
                        .iter()
                        .filter_map(|&j| match items[j].to {
                            To::Frame { ifindex } => Some((ifindex, bytes(&items[j]))),
                            _ => None,
                        })
                        .collect();
                    garp.send_batch(&frames, &mut failed);
                }
            }
        }
        self.used = 0;
    }

    /// The instances whose adverts the kernel refused since the last call, one per advert.
    pub fn take_failed(&mut self) -> heapless::Vec<usize, ITEMS> {
        std::mem::take(&mut self.failed)
            .into_iter()
            .map(usize::from)
            .collect()
    }
}
