//! Following the kernel: links and addresses from netlink dumps and events, the VRRP socket of
//! each interface, and the primary address that adverts come from.

use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;

use log::{debug, error, info, warn};
use mio::unix::SourceFd;
use mio::{Interest, Token};

use super::iface::{Iface, NO_INSTANCE, PrimaryPick};
use super::router::Router;
use super::{Daemon, IFACE_BASE};
use crate::limits::MAX_INTERFACES;
use crate::sys::bpf::Rule;
use crate::sys::netlink::{AddrInfo, LinkInfo};
use crate::sys::raw::VrrpSocket;
use crate::time::Instant;
use crate::vrrp::Input;
use crate::wire::vrrp::MULTICAST_V4;

impl Daemon {
    pub(super) fn on_link(&mut self, now: Instant, link: &LinkInfo) {
        let Some(i) = self
            .ifaces
            .iter()
            .position(|f| f.name == link.name.as_str())
        else {
            return;
        };
        let renumbered = self.ifaces[i].ifindex != link.ifindex;
        let changed = self.ifaces[i].update_link(link);
        if renumbered {
            info!("({}) link appeared as index {}", link.name, link.ifindex);
            self.refresh_primary(i);
            self.open_socket(i);
            self.primary_changed(now, i);
        }
        if link.up {
            self.vmac_up_elsewhere(i);
        }
        if renumbered || changed && link.up {
            // A parent that came back (or up) gets its instances' macvlans back.
            for k in 0..self.routers.len() {
                if self.routers[k].iface == i {
                    self.ensure_vmac(k);
                }
            }
        }
        if changed || renumbered {
            self.link_changed(now, i);
        }
    }

    pub(super) fn on_link_removed(&mut self, now: Instant, ifindex: u32) {
        let Some(i) = self.ifaces.iter().position(|f| f.ifindex == ifindex) else {
            return;
        };
        if self.vmac_owner(i).is_none() {
            warn!("({}) interface removed", self.ifaces[i].name);
        }
        if let Some(sock) = self.ifaces[i].sock.take() {
            let _ = self
                .poll
                .registry()
                .deregister(&mut SourceFd(&sock.as_raw_fd()));
        }
        self.ifaces[i].forget_link();
        self.vmac_removed(i);
        self.link_changed(now, i);
    }

    /// Interface `i` went up or down (or away): the instances on it and those tracking it follow.
    pub(super) fn link_changed(&mut self, now: Instant, i: usize) {
        let f = &self.ifaces[i];
        let word = if f.up { "up" } else { "down" };
        if self.runs_on(i) {
            info!("({}) link is {word}", f.name);
        }
        let tracked = self
            .routers
            .iter()
            .any(|r| r.cfg.track_interfaces.iter().any(|t| t.name == f.name));
        if tracked {
            info!("tracked interface {} is {word}", f.name);
        }
        // A member's down link also faults its sync group: one recomputation for all.
        self.track_apply(now);
    }

    /// Whether some instance runs on interface `i` (others are in the table to be tracked).
    pub(super) fn runs_on(&self, i: usize) -> bool {
        self.routers.iter().any(|r| r.iface == i)
    }

    pub(super) fn on_addr(&mut self, now: Instant, a: &AddrInfo, added: bool) {
        // Static addresses may live on interfaces no instance uses (lo).
        if !added && self.restore_static_addr(a.ifindex, a.addr) {
            return;
        }
        let Some(i) = self.ifaces.iter().position(|f| f.ifindex == a.ifindex) else {
            return;
        };
        if self.is_vip(a.ifindex, a.addr) {
            if !added {
                self.restore_vip(a.ifindex, a.addr);
            }
            return;
        }

        let primary = self.ifaces[i].primary;
        let gained_first = added && primary.is_none();
        let lost_primary = !added && primary == Some(a.addr);
        if gained_first || lost_primary {
            self.refresh_primary(i);
            self.primary_changed(now, i);
        }
    }

    /// Someone removed a VIP under a master: put it back, or the service is gone.
    pub(super) fn restore_vip(&mut self, ifindex: u32, addr: Ipv4Addr) {
        // A link being deleted goes down first and then loses its addresses: that is no
        // one removing a VIP (a deleted macvlan is made again, see vmac.rs).
        if !self.ifaces.iter().any(|f| f.ifindex == ifindex && f.up) {
            return;
        }
        let mut restored = false;
        for r in &self.routers {
            if r.is_master() && r.iface_of_vip(addr, &self.ifaces) == Some(ifindex) {
                warn!(
                    "({}) {addr} was removed by someone else; restoring it",
                    r.cfg.name
                );
                r.add_vips(&mut self.netlink, &self.ifaces);
                restored = true;
            }
        }
        // Routes from the address went with it, without a word from the kernel.
        if restored {
            self.routes_retry(true);
        }
    }

    /// Tells the instances on interface `i` where their adverts come from now. One left without
    /// a source address goes to FAULT, and comes back when it has one (`track_apply`).
    pub(super) fn primary_changed(&mut self, now: Instant, i: usize) {
        for k in 0..self.routers.len() {
            if self.routers[k].iface == i {
                if let Some(src) = self.routers[k].source(&self.ifaces) {
                    self.feed(k, now, Input::Primary(src));
                }
            }
        }
        self.track_apply(now);
    }

    /// Whether `addr` on `ifindex` is one of our virtual addresses (never a primary).
    pub(super) fn is_vip(&self, ifindex: u32, addr: Ipv4Addr) -> bool {
        is_vip(&self.routers, &self.ifaces, ifindex, addr)
    }

    pub(super) fn refresh_primary(&mut self, i: usize) {
        if !self.runs_on(i) {
            return;
        }
        let ifindex = self.ifaces[i].ifindex;
        let mut pick = PrimaryPick::default();
        let (routers, ifaces) = (&self.routers, &self.ifaces);
        if let Err(e) = self.netlink.dump_addrs(&mut |a| {
            if a.ifindex == ifindex && !is_vip(routers, ifaces, ifindex, a.addr) {
                pick.offer(&a);
            }
        }) {
            warn!("({}) reading addresses failed: {e}", self.ifaces[i].name);
            return;
        }
        let primary = pick.pick();
        if primary != self.ifaces[i].primary {
            match primary {
                Some(p) => info!("({}) primary address {p}", self.ifaces[i].name),
                None => warn!(
                    "({}) has no IPv4 address of its own: its instances cannot send adverts and stay in FAULT until it has one",
                    self.ifaces[i].name
                ),
            }
        }
        self.ifaces[i].primary = primary;
    }

    /// Reads every link and address from the kernel (at start-up and after lost events).
    /// Only the links we watch are kept from the dump: a router may have thousands (VLANs,
    /// PPPoE, WireGuard), and a table of them all would either grow or drop some.
    pub(super) fn resync(&mut self) {
        let mut found: heapless::Vec<Option<LinkInfo>, MAX_INTERFACES> = heapless::Vec::new();
        if found.resize(self.ifaces.len(), None).is_err() {
            // The config check keeps this from happening; if it did, say so.
            error!("more than {MAX_INTERFACES} interfaces in use (limit MAX_INTERFACES)");
        }
        let ifaces = &self.ifaces;
        if let Err(e) = self.netlink.dump_links(&mut |l| {
            if let Some(i) = ifaces.iter().position(|f| f.name == l.name.as_str()) {
                // A redone dump reports a link again; the later report is the current one.
                if let Some(slot) = found.get_mut(i) {
                    *slot = Some(l);
                }
            }
        }) {
            error!("reading links failed: {e}");
            return;
        }
        for i in 0..self.ifaces.len() {
            match found.get(i).cloned().flatten() {
                Some(l) => {
                    let renumbered = self.ifaces[i].ifindex != l.ifindex;
                    self.ifaces[i].update_link(&l);
                    if renumbered || self.ifaces[i].sock.is_none() {
                        self.open_socket(i);
                    }
                }
                None => {
                    if self.ifaces[i].ifindex != 0 || self.ifaces[i].sock.is_some() {
                        self.ifaces[i].forget_link();
                    }
                    if self.vmac_owner(i).is_some() {
                        // Ours to make (ensure_vmacs).
                        continue;
                    }
                    warn!(
                        "({}) no such interface; instances on it stay in FAULT until it appears",
                        self.ifaces[i].name
                    );
                }
            }
            if self.ifaces[i].ifindex != 0 {
                self.refresh_primary(i);
            }
        }
    }

    /// After lost events: re-read everything and feed the differences to the instances.
    pub(super) fn resync_and_follow(&mut self, now: Instant) {
        let before: heapless::Vec<bool, MAX_INTERFACES> =
            self.ifaces.iter().map(|f| f.up).collect();
        self.resync();
        self.ensure_vmacs();
        for i in 0..self.ifaces.len() {
            if before.get(i) != Some(&self.ifaces[i].up) {
                self.link_changed(now, i);
            }
            self.primary_changed(now, i);
        }
        // A VIP removed while events were being lost is only found now: masters put theirs
        // back (adding one that is there already is harmless).
        for r in self.routers.iter().filter(|r| r.is_master()) {
            r.add_vips(&mut self.netlink, &self.ifaces);
        }
        // Routes and rules too (and the static ones): whatever went missing comes back.
        self.routes_retry(true);
        self.track_apply(now);
    }

    pub(super) fn open_socket(&mut self, i: usize) {
        // What the socket's filter admits: the VRIDs run here, with their v2 passwords.
        let mut rules: heapless::Vec<Rule, 256> = heapless::Vec::new();
        let mut rcvbuf: Option<u32> = None;
        for r in self.routers.iter().filter(|r| r.iface == i) {
            let pass = if r.cfg.version == 2 {
                r.cfg.auth_pass
            } else {
                None
            };
            let _ = rules.push(Rule {
                vrid: r.cfg.vrid,
                pass,
            });
            if let Some(b) = r.cfg.kernel_rx_buf_size {
                rcvbuf = Some(rcvbuf.unwrap_or(0).saturating_add(b));
            }
        }
        let f = &mut self.ifaces[i];
        let used = |r: &super::router::Router| r.iface == i || r.tx_iface() == i;
        if f.ifindex == 0 || !self.routers.iter().any(used) {
            return;
        }
        if let Some(old) = f.sock.take() {
            let _ = self
                .poll
                .registry()
                .deregister(&mut SourceFd(&old.as_raw_fd()));
        }
        let sock = match VrrpSocket::open(&f.name, f.ifindex) {
            Ok(s) => s,
            Err(e) => {
                error!("({}) cannot open VRRP socket: {e}", f.name);
                return;
            }
        };
        if let Err(e) = sock.set_filter(&rules) {
            warn!(
                "({}) cannot attach the VRRP socket filter, every VRRP packet is queued: {e}",
                f.name
            );
        }
        if let Some(b) = rcvbuf {
            if let Err(e) = sock.set_rcvbuf(b) {
                warn!("({}) cannot set kernel_rx_buf_size {b}: {e}", f.name);
            }
        }
        let (ovfl, stamp) = sock.enable_meta();
        if let Err(e) = ovfl {
            debug!("({}) no queue overflow counts (SO_RXQ_OVFL): {e}", f.name);
        }
        if let Err(e) = stamp {
            debug!("({}) no arrival times (SO_TIMESTAMPNS): {e}", f.name);
        }
        f.sock_overflows = 0;
        if f.multicast {
            if let Err(e) = sock.join(MULTICAST_V4, f.ifindex) {
                error!("({}) cannot join {MULTICAST_V4}: {e}", f.name);
            }
        }
        let token = Token(IFACE_BASE + i);
        if let Err(e) = self.poll.registry().register(
            &mut SourceFd(&sock.as_raw_fd()),
            token,
            Interest::READABLE,
        ) {
            error!("({}) cannot poll VRRP socket: {e}", f.name);
            return;
        }
        f.sock = Some(sock);
    }

    /// Makes the interface table match the routers: one entry per interface in use (run on,
    /// holding a VIP, or tracked), sockets kept for interfaces that stay, and each router
    /// pointed at its entry. It is the daemon's one table of link state.
    pub(super) fn rebuild_ifaces(&mut self) {
        let mut old = std::mem::take(&mut self.ifaces);
        for r in &self.routers {
            let names = std::iter::once(r.cfg.interface.as_str())
                .chain(r.cfg.vmac.iter().map(|v| v.name.as_str()))
                .chain(r.all_vips().filter_map(|v| v.dev.as_deref()))
                .chain(r.cfg.track_interfaces.iter().map(|t| t.name.as_str()));
            for name in names {
                if self.ifaces.iter().any(|f| f.name == name) {
                    continue;
                }
                let f = match old.iter().position(|f| f.name == name) {
                    Some(p) => old.swap_remove(p),
                    None => Iface::new(name),
                };
                self.ifaces.push(f);
            }
        }
        for f in old {
            if let Some(sock) = f.sock {
                let _ = self
                    .poll
                    .registry()
                    .deregister(&mut SourceFd(&sock.as_raw_fd()));
            }
        }
        for f in &mut self.ifaces {
            f.vrids = [NO_INSTANCE; 256];
            f.multicast = false;
        }
        for (k, r) in self.routers.iter_mut().enumerate() {
            let i = self
                .ifaces
                .iter()
                .position(|f| f.name == r.cfg.interface)
                .unwrap_or(0);
            r.iface = i;
            r.vmac = r
                .cfg
                .vmac
                .as_ref()
                .and_then(|v| self.ifaces.iter().position(|f| f.name == v.name));
            let f = &mut self.ifaces[i];
            f.vrids[usize::from(r.cfg.vrid)] = k as u16;
            f.multicast |= !r.cfg.uses_unicast();
        }
        // Re-register sockets under their new positions, and join or leave the group as needed.
        for i in 0..self.ifaces.len() {
            if self.ifaces[i].sock.is_some() {
                self.open_socket(i);
            }
        }
    }

    /// A VIP left on the interface by a run that was killed must go until we are master again.
    pub(super) fn remove_stale_vips(&mut self) {
        // Only our VIPs (and excluded addresses) are kept from the dump, never the router's other addresses.
        let mut stale: Vec<(usize, Ipv4Addr, u8, u32)> = Vec::new();
        let (routers, ifaces) = (&self.routers, &self.ifaces);
        if let Err(e) = self.netlink.dump_addrs(&mut |a| {
            for (k, r) in routers.iter().enumerate() {
                if let Some(v) = r.all_vips().find(|v| v.addr == a.addr) {
                    let entry = (k, v.addr, v.prefix_len, a.ifindex);
                    if r.iface_of_vip(v.addr, ifaces) == Some(a.ifindex) && !stale.contains(&entry)
                    {
                        stale.push(entry);
                    }
                }
            }
        }) {
            warn!("reading addresses failed: {e}");
            return;
        }
        for (k, addr, prefix_len, ifindex) in stale {
            let name = &self.routers[k].cfg.name;
            info!("({name}) removing stale {addr} left on the interface by an earlier run");
            if let Err(e) = self.netlink.del_addr(ifindex, addr, prefix_len) {
                warn!("({name}) cannot remove {addr}: {e}");
            }
        }
    }
}

/// Whether `addr` on `ifindex` is one of the routers' virtual addresses (never a primary).
fn is_vip(routers: &[Router], ifaces: &[Iface], ifindex: u32, addr: Ipv4Addr) -> bool {
    routers
        .iter()
        .any(|r| r.iface_of_vip(addr, ifaces) == Some(ifindex))
}
