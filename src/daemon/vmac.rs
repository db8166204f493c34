//! The macvlans of instances (`use_vmac`, `use_vmac_addr`, a VIP's `use_vmac`; the list is
//! `config::Instance::vmacs`): made at start-up (or a leftover of a killed run reused), remade
//! when deleted by hand or when their parent comes back, deleted at stop and when a reload
//! drops them.
//!
//! Only a master may make switches learn the virtual MAC, so an instance's macvlans are
//! administratively up only while it is master (`Router::set_vmac_up` at each transition); a down
//! link sends nothing at all, ARP, IGMP and IPv6 included. FRR uses protodown to the same end;
//! keepalived keeps the link up and filters. Adverts are received on the parent: a down
//! macvlan hears nothing, and one in bridge mode (FRR's; keepalived's are private) lets
//! multicast from its own MAC — another master's adverts — through to the parent.
//! The sysctls set on the parent and the macvlan:
//!
//! - `arp_ignore=1` on both: a link answers ARP only for its own addresses, so the parent
//!   never answers for the VIP with its own MAC, nor the macvlan for the parent's address
//!   with the virtual MAC.
//! - `arp_filter=1` on the parent, as keepalived sets it.
//! - `arp_announce=2` on both (keepalived leaves it): the kernel's own ARP requests name the
//!   sending link's own address, so they never tell a client that the VIP is at the parent's
//!   MAC — which with keepalived flips a client's entry for the VIP to the physical MAC.
//! - `rp_filter=0` on the macvlan: traffic for the VIP arrives there while the route back to
//!   the sender is through the parent.
//! - IPv6 on the macvlan: `addrgenmode none` (no link-local of its own), `accept_ra=0` and
//!   `accept_dad=0`. An IPv6 master sends its adverts from the parent's link-local, copied
//!   onto the macvlan while it is up (`Router::sync_vmac_source`).
//!
//! The changed sysctls are logged; the parent's are put back at stop (keepalived leaves them).

use std::net::IpAddr;

use log::{debug, error, info, warn};

use super::Daemon;
use super::iface::{self, Iface};
use super::router::Router;
use crate::limits::MAX_INTERFACES;
use crate::sys::netlink::{Netlink, VipSpec};
use crate::sys::sysctl;

/// The driver a macvlan reports.
const MACVLAN: &str = "macvlan";

/// Settings of the macvlans' parents as they were before we changed them: three per interface.
pub(super) type SavedSysctls = heapless::Vec<Saved, { 3 * MAX_INTERFACES }>;

pub(super) struct Saved {
    dev: heapless::String<16>,
    key: &'static str,
    old: u32,
}

/// One of an instance's macvlans at run time, as `cfg.vmacs` lists them.
#[derive(Debug, Clone, Copy)]
pub struct Macvlan {
    /// Index in the daemon's interface table, and its parent's.
    pub at: usize,
    pub parent: usize,
    /// Found or made and set up (sysctls, state) since the link last changed.
    pub ready: bool,
}

impl Daemon {
    /// Makes sure every instance has its macvlans.
    pub(super) fn ensure_vmacs(&mut self) {
        for k in 0..self.routers.len() {
            self.ensure_vmac(k);
        }
    }

    /// Makes sure instance `k` has its macvlans.
    pub(super) fn ensure_vmac(&mut self, k: usize) {
        for j in 0..self.routers[k].vmacs.len() {
            self.ensure_link(k, j);
        }
    }

    /// Makes sure macvlan `j` of instance `k` exists on its parent with its MAC and is set up:
    /// an existing one is reused, a macvlan that differs is recreated, and a link of that name
    /// that is no macvlan is left alone (the instance stays in FAULT, see `vmac_broken`).
    fn ensure_link(&mut self, k: usize, j: usize) {
        let r = &self.routers[k];
        let (Some(vm), Some(&l)) = (r.cfg.vmacs.get(j).cloned(), r.vmacs.get(j)) else {
            return;
        };
        let name = r.cfg.name.clone();
        let parent = self.ifaces[l.parent].ifindex;
        if parent == 0 {
            // Its parent is missing (the kernel removed the macvlan with it): the instance's
            // own interface is FAULT; addresses on another are missing until it is back.
            return;
        }
        let m = l.at;
        let f = &self.ifaces[m];
        if f.ifindex != 0 {
            if is_ours(f, parent, vm.mac) {
                if !l.ready {
                    info!("({name}) using the existing macvlan {}", vm.name);
                    self.set_up_vmac(k, j);
                }
                return;
            }
            if f.kind != MACVLAN {
                let what = if f.kind.is_empty() {
                    "a plain device"
                } else {
                    f.kind.as_str()
                };
                error!(
                    "({name}) {} exists and is not a macvlan ({what}); leaving it alone, \
                     the instance stays in FAULT",
                    vm.name
                );
                self.routers[k].vmacs[j].ready = false;
                return;
            }
            warn!(
                "({name}) {} is a macvlan on another parent or with another MAC; recreating it",
                vm.name
            );
            if let Err(e) = self.netlink.del_link(f.ifindex) {
                error!("({name}) cannot delete {}: {e}", vm.name);
                return;
            }
            self.ifaces[m].forget_link();
        }
        self.routers[k].vmacs[j].ready = false;
        if let Err(e) = self.netlink.add_macvlan(&vm.name, parent, vm.mac) {
            // The kernel's answer to an unknown link kind.
            let hint = if e.raw_os_error() == Some(libc::EOPNOTSUPP) {
                " (no macvlan support in this kernel? On OpenWrt: opkg install kmod-macvlan)"
            } else {
                ""
            };
            error!(
                "({name}) cannot create macvlan {} on {}: {e}{hint}",
                vm.name, vm.parent
            );
            return;
        }
        info!(
            "({name}) created macvlan {} on {} with MAC {}",
            vm.name,
            vm.parent,
            Mac(vm.mac)
        );
        // Its index, now rather than when the event comes: the VIPs and the socket need it.
        let mut found = None;
        if let Err(e) = self.netlink.dump_links(&mut |l| {
            if l.name.as_str() == vm.name {
                found = Some(l);
            }
        }) {
            warn!("reading links failed: {e}");
        }
        match found {
            Some(l) => {
                self.ifaces[m].update_link(&l);
                self.set_up_vmac(k, j);
            }
            None => warn!("({name}) {} vanished as soon as it was made", vm.name),
        }
    }

    /// Sysctls, no IPv6 addresses of its own, its socket if adverts leave from it, and the
    /// state its instance wants.
    fn set_up_vmac(&mut self, k: usize, j: usize) {
        let Some(&l) = self.routers[k].vmacs.get(j) else {
            return;
        };
        let m = l.at;
        let name = self.routers[k].cfg.name.clone();
        let parent = self.ifaces[l.parent].name.clone();
        let vmac = self.ifaces[m].name.clone();
        // A leftover may be someone else's private-mode macvlan: see MACVLAN_MODE_BRIDGE.
        if let Err(e) = self.netlink.set_macvlan_bridge(self.ifaces[m].ifindex) {
            warn!("({name}) cannot put {vmac} in bridge mode: {e}");
        }
        // Best effort: a kernel without IPv6 refuses, and then there is nothing to turn off.
        if let Err(e) = self.netlink.set_addrgenmode_none(self.ifaces[m].ifindex) {
            debug!("({name}) addrgenmode none on {vmac}: {e}");
        }
        for (dev, key, value) in [
            (parent.as_str(), "arp_ignore", 1),
            (parent.as_str(), "arp_filter", 1),
            (parent.as_str(), "arp_announce", 2),
            (vmac.as_str(), "arp_ignore", 1),
            (vmac.as_str(), "arp_announce", 2),
            (vmac.as_str(), "rp_filter", 0),
        ] {
            match sysctl::set_ipv4_conf(dev, key, value) {
                Ok(Some(old)) => {
                    info!("({name}) net.ipv4.conf.{dev}.{key} set to {value} (was {old})");
                    // The macvlan's own go with it; the parent's are put back at stop.
                    if dev == parent {
                        let dev = heapless::String::try_from(dev).unwrap_or_default();
                        let _ = self.saved_sysctls.push(Saved { dev, key, old });
                    }
                }
                Ok(None) => {}
                Err(e) => warn!("({name}) cannot set net.ipv4.conf.{dev}.{key}: {e}"),
            }
        }
        // IPv6 on the macvlan: no router adverts taken (they would make SLAAC addresses and a
        // default route from the shared MAC), and no duplicate address detection, so nothing
        // there waits for or sends a solicitation from the virtual MAC. A kernel without IPv6
        // has nothing to turn off.
        for key in ["accept_ra", "accept_dad"] {
            if let Err(e) = sysctl::set_ipv6_conf(&vmac, key, 0) {
                debug!("({name}) net.ipv6.conf.{vmac}.{key}: {e}");
            }
        }
        if sysctl::ipv4_conf("all", "rp_filter").is_ok_and(|v| v == 1) {
            warn!(
                "({name}) net.ipv4.conf.all.rp_filter is 1 (strict): traffic for the VIPs on \
                 {vmac} is dropped; set it to 0 or 2"
            );
        }
        if self.routers[k].tx_iface() == m {
            self.open_socket(m);
        }
        let r = &mut self.routers[k];
        let master = r.is_master();
        r.set_vmac_up(master, &mut self.netlink, &self.ifaces);
        if master {
            r.add_vips(&mut self.netlink, &self.ifaces);
        }
        self.routers[k].vmacs[j].ready = true;
    }

    /// Puts back the parents' sysctls we changed (keepalived leaves them changed).
    pub(super) fn restore_sysctls(&mut self) {
        for s in self.saved_sysctls.iter().rev() {
            match sysctl::set_ipv4_conf(&s.dev, s.key, s.old) {
                Ok(_) => info!("net.ipv4.conf.{}.{} restored to {}", s.dev, s.key, s.old),
                Err(e) => warn!("cannot restore net.ipv4.conf.{}.{}: {e}", s.dev, s.key),
            }
        }
        self.saved_sysctls.clear();
    }

    /// The macvlan at table index `i` is up: unless its instance is master, someone else (or
    /// a late event of our own) did that; a backup's must stay down.
    pub(super) fn vmac_up_elsewhere(&mut self, i: usize) {
        let Some((k, j)) = self.vmac_owner(i) else {
            return;
        };
        let r = &mut self.routers[k];
        if r.vmacs[j].ready && !r.is_master() {
            debug!(
                "({}) {} is up while not master; down again",
                r.cfg.name, self.ifaces[i].name
            );
            r.set_vmac_up(false, &mut self.netlink, &self.ifaces);
        }
    }

    /// The source address of the instances on interface `i` may have moved: a master sending
    /// from its macvlan copies the new one there.
    pub(super) fn vmac_source_moved(&mut self, i: usize) {
        for r in self
            .routers
            .iter_mut()
            .filter(|r| r.iface == i && !r.vmacs.is_empty())
        {
            r.sync_vmac_source(&mut self.netlink, &self.ifaces);
        }
    }

    /// An address left macvlan `ifindex`: if it was a master's copied source, put it back
    /// (its adverts cannot leave without it). True if it was one.
    pub(super) fn vmac_source_removed(&mut self, ifindex: u32, addr: IpAddr) -> bool {
        let IpAddr::V6(a) = addr else {
            return false;
        };
        let on = |r: &Router| {
            r.advert_vmac()
                .and_then(|m| self.ifaces.get(m))
                .is_some_and(|f| f.ifindex == ifindex && f.up)
        };
        let Some(k) = self
            .routers
            .iter()
            .position(|r| r.vmac_source == Some(a) && r.is_master() && on(r))
        else {
            return false;
        };
        let r = &mut self.routers[k];
        warn!(
            "({}) {a} was removed from its macvlan; restoring it",
            r.cfg.name
        );
        r.vmac_source = None;
        r.sync_vmac_source(&mut self.netlink, &self.ifaces);
        true
    }

    /// One of instance `k`'s macvlans on its own interface is missing or not ours (a link of
    /// that name that is something else). Those on other interfaces fault nothing: like a VIP
    /// whose `dev` is missing, their addresses are logged as missing and come back with them
    /// (and a parent going away deletes its macvlans before its own removal is heard).
    pub(super) fn vmac_broken(&self, k: usize) -> bool {
        let r = &self.routers[k];
        let parent = self.ifaces.get(r.iface).map_or(0, |f| f.ifindex);
        r.cfg.vmacs.iter().zip(&r.vmacs).any(|(vm, l)| {
            l.parent == r.iface
                && !self
                    .ifaces
                    .get(l.at)
                    .is_some_and(|f| is_ours(f, parent, vm.mac))
        })
    }

    /// Which instance has the macvlan at table index `i`, and which of its macvlans it is.
    pub(super) fn vmac_owner(&self, i: usize) -> Option<(usize, usize)> {
        self.routers
            .iter()
            .enumerate()
            .find_map(|(k, r)| Some((k, r.vmacs.iter().position(|l| l.at == i)?)))
    }

    /// The macvlan at table index `i` was deleted under us: make it again at once, so that a
    /// master keeps its VIPs (and does not pass through FAULT).
    pub(super) fn vmac_removed(&mut self, i: usize) {
        let Some((k, j)) = self.vmac_owner(i) else {
            return;
        };
        let l = &mut self.routers[k].vmacs[j];
        l.ready = false;
        // A parent that is down or going away takes its macvlans with it; they are made
        // again when it is back up (`on_link`).
        if !self.ifaces[l.parent].up {
            return;
        }
        warn!(
            "({}) macvlan {} was deleted by someone else; recreating it",
            self.routers[k].cfg.name, self.ifaces[i].name
        );
        self.ensure_link(k, j);
    }

    /// Deletes the macvlans whose names `keep` refuses (all of them at stop).
    pub(super) fn delete_vmacs(&mut self, keep: &dyn Fn(&str) -> bool) {
        for k in 0..self.routers.len() {
            for j in 0..self.routers[k].vmacs.len() {
                let r = &self.routers[k];
                let (vm, l) = (&r.cfg.vmacs[j], r.vmacs[j]);
                let parent = self.ifaces[l.parent].ifindex;
                if keep(&vm.name) || !is_ours(&self.ifaces[l.at], parent, vm.mac) {
                    continue;
                }
                info!("({}) deleting macvlan {}", r.cfg.name, vm.name);
                if let Err(e) = self.netlink.del_link(self.ifaces[l.at].ifindex) {
                    warn!("({}) cannot delete {}: {e}", r.cfg.name, vm.name);
                }
                self.routers[k].vmacs[j].ready = false;
            }
        }
    }
}

impl Router {
    /// Brings the macvlans up or down (nothing before they exist). Up, an IPv6 instance that
    /// sends from its own gets its source address there (`sync_vmac_source`); down, the
    /// kernel drops a macvlan's IPv6 addresses without a frame.
    pub fn set_vmac_up(&mut self, up: bool, netlink: &mut Netlink, ifaces: &[Iface]) {
        for l in &self.vmacs {
            let Some(f) = ifaces.get(l.at).filter(|f| f.ifindex != 0) else {
                continue;
            };
            if let Err(e) = netlink.set_link_up(f.ifindex, up) {
                let word = if up { "up" } else { "down" };
                warn!("({}) cannot set {} {word}: {e}", self.cfg.name, f.name);
            }
        }
        self.sync_vmac_source(netlink, ifaces);
    }

    /// The macvlan adverts leave from (`use_vmac` without `vmac_xmit_base`), as a table index.
    pub fn advert_vmac(&self) -> Option<usize> {
        let j = self.cfg.vmacs.iter().position(|m| m.adverts)?;
        self.vmacs.get(j).map(|l| l.at)
    }

    /// An IPv6 master sending from its macvlan needs its source address on it: the kernel
    /// sends from an address of the sending link only, and RFC 5798 wants a link-local. The
    /// parent's (the one the election compares) is copied there without duplicate address
    /// detection, as keepalived does; a link-local made from the virtual MAC would be the same
    /// on every router and break the tie-break. Only while master: the copy is made after the
    /// link comes up and goes (removed after it is down, so without an MLD report) when it
    /// goes down. With `vmac_xmit_base` the macvlan sends no adverts and needs none.
    pub fn sync_vmac_source(&mut self, netlink: &mut Netlink, ifaces: &[Iface]) {
        let Some(f) = self.advert_vmac().and_then(|i| ifaces.get(i)) else {
            return;
        };
        let want = match self.source(ifaces) {
            Some(IpAddr::V6(a)) if self.is_master() => Some(a),
            _ => None,
        };
        if want == self.vmac_source || f.ifindex == 0 {
            return;
        }
        if let Some(a) = want {
            let spec = VipSpec {
                ifindex: f.ifindex,
                addr: IpAddr::V6(a),
                prefix_len: 64,
                brd: None,
                scope: if iface::is_link_local(a) { 253 } else { 0 },
                label: None,
            };
            match netlink.add_addr(&spec) {
                Ok(()) => info!(
                    "({}) {a} copied onto {} to send from",
                    self.cfg.name, f.name
                ),
                Err(e) => {
                    warn!("({}) cannot add {a} to {}: {e}", self.cfg.name, f.name);
                    return;
                }
            }
        }
        if let Some(old) = self.vmac_source.take() {
            if let Err(e) = netlink.del_addr(f.ifindex, IpAddr::V6(old), 64) {
                debug!("({}) removing {old} from {}: {e}", self.cfg.name, f.name);
            }
        }
        self.vmac_source = want;
    }
}

/// A macvlan on `parent` with `mac`: ours to use (a leftover of a killed run included).
fn is_ours(f: &Iface, parent: u32, mac: [u8; 6]) -> bool {
    f.ifindex != 0 && parent != 0 && f.kind == MACVLAN && f.parent == parent && f.mac == mac
}

struct Mac([u8; 6]);

impl core::fmt::Display for Mac {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}
