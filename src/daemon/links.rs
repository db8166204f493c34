//! Following the kernel: links and addresses from netlink dumps and events, the VRRP sockets of
//! each interface, and the source addresses that adverts come from.

use std::io;
use std::net::IpAddr;
use std::os::fd::AsRawFd;

use log::{debug, error, info, warn};
use mio::unix::SourceFd;
use mio::{Interest, Token};

use super::iface::{self, Iface, LinkLocalPick, NO_INSTANCE, PrimaryPick};
use super::router::Router;
use super::vmac::Macvlan;
use super::{Daemon, IFACE_BASE, IFACE6_BASE};
use crate::limits::MAX_INTERFACES;
use crate::sys::bpf::Rule;
use crate::sys::netlink::{AddrInfo, LinkInfo};
use crate::sys::raw::VrrpSocket;
use crate::sys::raw6::Vrrp6Socket;
use crate::time::Instant;
use crate::vrrp::{Family, Input};
use crate::wire::vrrp::{MULTICAST_V4, MULTICAST_V6};

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
            self.refresh_sources(i);
            self.open_socket(i);
            self.primary_changed(now, i);
        }
        if link.up {
            self.vmac_up_elsewhere(i);
        }
        if renumbered || changed && link.up {
            // A parent that came back (or up) gets its macvlans back.
            for k in 0..self.routers.len() {
                if self.routers[k].vmacs.iter().any(|l| l.parent == i) {
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
        self.close_sockets(i);
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
        if !added && self.vmac_source_removed(a.ifindex, a.addr) {
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
        let f = &self.ifaces[i];
        let affects = match a.addr {
            IpAddr::V4(v4) => (added && f.primary.is_none()) || (!added && f.primary == Some(v4)),
            // Any link-local change may change the pick: a new lower one, the current one
            // going, or one finishing duplicate address detection (a NEWADDR with new flags).
            IpAddr::V6(v6) => iface::is_link_local(v6),
        };
        if affects && self.refresh_sources(i) {
            self.primary_changed(now, i);
            self.track_apply(now);
        }
    }

    /// Someone removed a VIP under a master: put it back, or the service is gone.
    pub(super) fn restore_vip(&mut self, ifindex: u32, addr: IpAddr) {
        // A link being deleted goes down first and then loses its addresses: that is no
        // one removing a VIP (a deleted macvlan is made again, see vmac.rs).
        if !self.ifaces.iter().any(|f| f.ifindex == ifindex && f.up) {
            return;
        }
        let mut restored = false;
        for r in &self.routers {
            if r.is_master() && r.has_vip(ifindex, addr, &self.ifaces) {
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
        self.vmac_source_moved(i);
        for k in 0..self.routers.len() {
            if self.routers[k].iface == i {
                if let Some(src) = self.routers[k].source(&self.ifaces) {
                    self.feed(k, now, Input::Primary(src));
                }
            }
        }
        self.track_apply(now);
    }

    /// Whether `addr` on `ifindex` is one of our virtual addresses (never a source).
    pub(super) fn is_vip(&self, ifindex: u32, addr: IpAddr) -> bool {
        is_vip(&self.routers, &self.ifaces, ifindex, addr)
    }

    /// Re-reads interface `i`'s addresses and picks its IPv4 primary and IPv6 link-local,
    /// one address at a time as the dump streams. True if either changed.
    pub(super) fn refresh_sources(&mut self, i: usize) -> bool {
        if !self.runs_on(i) {
            return false;
        }
        let ifindex = self.ifaces[i].ifindex;
        let mut primary = PrimaryPick::default();
        let mut link_local = LinkLocalPick::default();
        let (routers, ifaces) = (&self.routers, &self.ifaces);
        if let Err(e) = self.netlink.dump_addrs(&mut |a| {
            if a.ifindex == ifindex && !is_vip(routers, ifaces, ifindex, a.addr) {
                primary.offer(&a);
                link_local.offer(&a);
            }
        }) {
            warn!("({}) reading addresses failed: {e}", self.ifaces[i].name);
            return false;
        }
        let (primary, link_local) = (primary.pick(), link_local.pick());
        let f = &self.ifaces[i];
        let changed = (primary, link_local) != (f.primary, f.link_local);
        if primary != f.primary && f.v4.used {
            match primary {
                Some(p) => info!("({}) primary address {p}", f.name),
                None => warn!(
                    "({}) has no IPv4 address of its own: its instances cannot send adverts and stay in FAULT until it has one",
                    f.name
                ),
            }
        }
        if link_local != f.link_local && f.v6.used {
            match link_local {
                Some(p) => info!("({}) IPv6 source address {p}", f.name),
                None => warn!(
                    "({}) has no usable IPv6 link-local address; its IPv6 instances are in FAULT until one appears",
                    f.name
                ),
            }
        }
        let f = &mut self.ifaces[i];
        f.primary = primary;
        f.link_local = link_local;
        changed
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
                    let f = &self.ifaces[i];
                    let missing =
                        (f.v4.used && f.v4.sock.is_none()) || (f.v6.used && f.v6.sock.is_none());
                    if renumbered || missing {
                        self.open_socket(i);
                    }
                }
                None => {
                    if self.ifaces[i].ifindex != 0 {
                        self.close_sockets(i);
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
                self.refresh_sources(i);
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

    fn close_sockets(&mut self, i: usize) {
        let f = &mut self.ifaces[i];
        let reg = self.poll.registry();
        if let Some(s) = f.v4.sock.take() {
            let _ = reg.deregister(&mut SourceFd(&s.as_raw_fd()));
        }
        if let Some(s) = f.v6.sock.take() {
            let _ = reg.deregister(&mut SourceFd(&s.as_raw_fd()));
        }
    }

    /// (Re)opens interface `i`'s sockets, one per family its instances use, and joins the
    /// multicast groups they need.
    pub(super) fn open_socket(&mut self, i: usize) {
        // What each family's socket filter admits: the VRIDs run here, with their v2 passwords.
        let mut rules: [heapless::Vec<Rule, 256>; 2] = [heapless::Vec::new(), heapless::Vec::new()];
        let mut rcvbuf: Option<u32> = None;
        for r in self.routers.iter().filter(|r| r.iface == i) {
            if let Some(b) = r.cfg.kernel_rx_buf_size {
                rcvbuf = Some(rcvbuf.unwrap_or(0).saturating_add(b));
            }
            let pass = if r.cfg.version == 2 && r.cfg.family == Family::V4 {
                r.cfg.auth_pass
            } else {
                None
            };
            let _ = rules[usize::from(r.cfg.family == Family::V6)].push(Rule {
                vrid: r.cfg.vrid,
                pass,
            });
        }
        self.close_sockets(i);
        let f = &mut self.ifaces[i];
        if f.ifindex == 0 {
            return;
        }
        let reg = self.poll.registry();
        if f.v4.used {
            match VrrpSocket::open(&f.name, f.ifindex) {
                Ok(sock) => {
                    // In this order: nothing unfiltered is queued once the group is joined.
                    log_setup(
                        &f.name,
                        "VRRP",
                        sock.set_filter(&rules[0]),
                        rcvbuf.map(|b| (b, sock.set_rcvbuf(b))),
                        sock.enable_meta(),
                        f.v4.multicast.then(|| {
                            (IpAddr::V4(MULTICAST_V4), sock.join(MULTICAST_V4, f.ifindex))
                        }),
                    );
                    f.sock_overflows[0] = 0;
                    let token = Token(IFACE_BASE + i);
                    match reg.register(&mut SourceFd(&sock.as_raw_fd()), token, Interest::READABLE)
                    {
                        Ok(()) => f.v4.sock = Some(sock),
                        Err(e) => error!("({}) cannot poll VRRP socket: {e}", f.name),
                    }
                }
                Err(e) => error!("({}) cannot open VRRP socket: {e}", f.name),
            }
        }
        if f.v6.used {
            match Vrrp6Socket::open(&f.name, f.ifindex) {
                Ok(sock) => {
                    log_setup(
                        &f.name,
                        "IPv6 VRRP",
                        sock.set_filter(&rules[1]),
                        rcvbuf.map(|b| (b, sock.set_rcvbuf(b))),
                        sock.enable_meta(),
                        f.v6.multicast
                            .then(|| (IpAddr::V6(MULTICAST_V6), sock.join(MULTICAST_V6))),
                    );
                    f.sock_overflows[1] = 0;
                    let token = Token(IFACE6_BASE + i);
                    match reg.register(&mut SourceFd(&sock.as_raw_fd()), token, Interest::READABLE)
                    {
                        Ok(()) => f.v6.sock = Some(sock),
                        Err(e) => error!("({}) cannot poll IPv6 VRRP socket: {e}", f.name),
                    }
                }
                Err(e) => error!("({}) cannot open IPv6 VRRP socket: {e}", f.name),
            }
        }
    }

    /// Makes the interface table match the routers: one entry per interface in use (run on,
    /// holding a VIP, or tracked), sockets kept for interfaces that stay, and each router
    /// pointed at its entry. It is the daemon's one table of link state.
    pub(super) fn rebuild_ifaces(&mut self) {
        let mut old = std::mem::take(&mut self.ifaces);
        for r in &self.routers {
            let names = std::iter::once(r.cfg.interface.as_str())
                .chain(r.cfg.vmacs.iter().map(|v| v.name.as_str()))
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
        let reg = self.poll.registry();
        for f in old {
            for fd in [
                f.v4.sock.as_ref().map(|s| s.as_raw_fd()),
                f.v6.sock.as_ref().map(|s| s.as_raw_fd()),
            ]
            .into_iter()
            .flatten()
            {
                let _ = reg.deregister(&mut SourceFd(&fd));
            }
        }
        for f in &mut self.ifaces {
            for (vrids, used, multicast) in [
                (&mut f.v4.vrids, &mut f.v4.used, &mut f.v4.multicast),
                (&mut f.v6.vrids, &mut f.v6.used, &mut f.v6.multicast),
            ] {
                *vrids = [NO_INSTANCE; 256];
                *used = false;
                *multicast = false;
            }
        }
        for (k, r) in self.routers.iter_mut().enumerate() {
            let i = self
                .ifaces
                .iter()
                .position(|f| f.name == r.cfg.interface)
                .unwrap_or(0);
            r.iface = i;
            // Every name is in the table: it was put there above.
            let at = |name: &str| self.ifaces.iter().position(|f| f.name == name).unwrap_or(0);
            let old = std::mem::take(&mut r.vmacs);
            r.vmacs = r
                .cfg
                .vmacs
                .iter()
                .enumerate()
                .map(|(j, v)| Macvlan {
                    at: at(&v.name),
                    parent: at(&v.parent),
                    ready: old.get(j).is_some_and(|l| l.ready),
                })
                .collect();
            let f = &mut self.ifaces[i];
            let side_vrids = match r.cfg.family {
                Family::V4 => {
                    f.v4.used = true;
                    f.v4.multicast |= !r.cfg.uses_unicast();
                    &mut f.v4.vrids
                }
                Family::V6 => {
                    f.v6.used = true;
                    f.v6.multicast |= !r.cfg.uses_unicast();
                    &mut f.v6.vrids
                }
            };
            side_vrids[usize::from(r.cfg.vrid)] = k as u16;
            // With use_vmac adverts leave from the macvlan: it needs a socket of the family.
            let t = r.tx_iface();
            if t != i {
                if let Some(f) = self.ifaces.get_mut(t) {
                    match r.cfg.family {
                        Family::V4 => f.v4.used = true,
                        Family::V6 => f.v6.used = true,
                    }
                }
            }
        }
        // Re-register sockets under their new positions, refilter them, and join or leave the
        // groups as needed (`resync` opens the ones still missing).
        for i in 0..self.ifaces.len() {
            let f = &self.ifaces[i];
            if f.v4.sock.is_some() || f.v6.sock.is_some() {
                self.open_socket(i);
            }
        }
    }

    /// A VIP left on the interface by a run that was killed must go until we are master again.
    pub(super) fn remove_stale_vips(&mut self) {
        // Only our VIPs (and excluded addresses) are kept from the dump, never the router's other addresses.
        let mut stale: Vec<(usize, IpAddr, u8, u32)> = Vec::new();
        let (routers, ifaces) = (&self.routers, &self.ifaces);
        if let Err(e) = self.netlink.dump_addrs(&mut |a| {
            for (k, r) in routers.iter().enumerate() {
                for v in r.all_vips().filter(|v| v.addr == a.addr) {
                    let entry = (k, v.addr, v.prefix_len, a.ifindex);
                    if r.ifindex_of(v, ifaces) == Some(a.ifindex) && !stale.contains(&entry) {
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

/// Whether `addr` on `ifindex` is one of the routers' virtual addresses (never a source).
fn is_vip(routers: &[Router], ifaces: &[Iface], ifindex: u32, addr: IpAddr) -> bool {
    routers.iter().any(|r| r.has_vip(ifindex, addr, ifaces))
}

/// Says at debug level what a VRRP socket goes without: arrival times and overflow counts are
/// a help, not a need (old kernels, qemu-user).
/// Logs how setting up one of `name`'s `what` sockets went: its filter, its queue size
/// (`kernel_rx_buf_size`), arrival times and overflow counts, and the group it joined. The
/// same steps for both families; only the calls differ.
fn log_setup(
    name: &str,
    what: &str,
    filter: io::Result<bool>,
    rcvbuf: Option<(u32, io::Result<()>)>,
    (ovfl, stamp): (io::Result<()>, io::Result<()>),
    join: Option<(IpAddr, io::Result<()>)>,
) {
    if let Err(e) = filter {
        warn!("({name}) cannot attach the {what} socket filter, every VRRP packet is queued: {e}");
    }
    if let Some((b, Err(e))) = rcvbuf {
        warn!("({name}) cannot set kernel_rx_buf_size {b}: {e}");
    }
    if let Err(e) = ovfl {
        debug!("({name}) no queue overflow counts (SO_RXQ_OVFL): {e}");
    }
    if let Err(e) = stamp {
        debug!("({name}) no arrival times (SO_TIMESTAMPNS): {e}");
    }
    if let Some((group, Err(e))) = join {
        error!("({name}) cannot join {group}: {e}");
    }
}
