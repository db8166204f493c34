//! One configured instance at run time: its pure core plus what it takes to carry out the core's
//! actions on real interfaces (adverts, virtual addresses, gratuitous ARPs) and its counters.

use core::time::Duration;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use log::{debug, info, warn};

use super::iface::Iface;
use super::routes;
use super::status::Stats;
use super::tx::{To, Tx};
use super::vmac::Macvlan;
use crate::config;
use crate::limits::MAX_PACKET;
use crate::sys::claim::Claim;
use crate::sys::netlink::{Netlink, VipSpec};
use crate::sys::packet::PacketSocket;
use crate::sys::sysctl;
use crate::time::Instant;
use crate::vrrp::rx::{Counters, Drop};
use crate::vrrp::{Action, Actions, Family, Garp, Instance, Reason, Spec, State, Version};
use crate::wire::{arp, ipv4, ndisc, vrrp};

/// One log line per drop reason per this period, with a count, so a flood cannot fill the disk.
pub(super) const DROP_LOG_PERIOD: Duration = Duration::from_secs(10);

pub struct Router {
    /// The daemon's view: names, interfaces, VIP options, scripts. What the protocol runs by is
    /// the core's [`Spec`], built from it once.
    pub cfg: config::Instance,
    pub core: Instance,
    /// Index of the instance's interface in the daemon's table.
    pub iface: usize,
    /// Its macvlans, as `cfg.vmacs` lists them (daemon/vmac.rs).
    pub vmacs: Vec<Macvlan>,
    /// The IPv6 source address copied onto the macvlan while master (daemon/vmac.rs).
    pub vmac_source: Option<Ipv6Addr>,
    pub drops: Counters,
    pub adverts_rx: u64,
    pub adverts_tx: u64,
    /// keepalived's other counters, the master heard and when the state was entered.
    pub stats: Stats,
    /// When each drop reason was last logged, and how many since.
    drop_log: [(Option<Instant>, u64); Drop::ALL.len()],
    /// Which of its virtual routes and rules are in the kernel (daemon/routes.rs).
    pub extras: routes::Installed,
    /// Held while the instance exists, so a second daemon cannot run the same virtual router.
    _claim: Claim,
}

/// What netlink needs to add address `v` on `ifindex`.
pub(super) fn vip_spec(v: &config::Vip, ifindex: u32) -> VipSpec<'_> {
    VipSpec {
        ifindex,
        addr: v.addr,
        prefix_len: v.prefix_len,
        brd: v.brd,
        scope: v.scope,
        label: v.label.as_deref(),
    }
}

/// The one spec of an instance, from its configuration.
pub fn spec_of(cfg: &config::Instance) -> Spec {
    Spec {
        vrid: cfg.vrid,
        version: match (cfg.version, cfg.family) {
            (3, f) | (_, f @ Family::V6) => Version::V3(f),
            _ => Version::V2,
        },
        priority: cfg.priority,
        advert_int_cs: cfg.advert_int_cs,
        preempt: cfg.preempt,
        preempt_delay: cfg.preempt_delay,
        garp: Garp {
            repeat: cfg.garp_master_repeat,
            delay: Duration::from_secs(u64::from(cfg.garp_master_delay)),
            refresh: Duration::from_secs(u64::from(cfg.garp_master_refresh)),
            refresh_repeat: cfg.garp_master_refresh_repeat,
            interval: cfg.garp_interval,
            extra_addrs: cfg.extras.addrs.len(),
            extra_if: Duration::from_secs(u64::from(cfg.garp_extra_if.secs)),
        },
        auth: cfg.auth_pass,
        // The reader refuses more than the limits, so nothing is cut here.
        vips: cfg.vips.iter().map(|v| v.addr).collect(),
        peers: cfg.unicast_peers.iter().copied().collect(),
        checksum_as_v2: cfg.v3_checksum_as_v2,
        strict: cfg.strict,
    }
}

/// The VIPs of `new` that `old` does not have, exactly as written (address, length, device,
/// label, scope, broadcast): a VIP that changed is one removed and one added.
pub fn vips_missing<'a>(
    new: &'a config::Instance,
    old: &'a config::Instance,
) -> impl Iterator<Item = &'a config::Vip> {
    new.vips.iter().filter(|v| !old.vips.contains(v))
}

impl Router {
    /// A new instance, holding the claim on its VRID (see `sys::claim`): fails when another
    /// vrrpd in this network namespace runs the same virtual router.
    pub fn new(cfg: &config::Instance) -> io::Result<Router> {
        let spec = spec_of(cfg);
        let family = match spec.version.family() {
            Family::V4 => "ipv4",
            Family::V6 => "ipv6",
        };
        let claim = Claim::take(&cfg.interface, family, cfg.vrid).map_err(|e| {
            let why = if e.kind() == io::ErrorKind::AddrInUse {
                "is already run by another vrrpd in this network namespace".to_string()
            } else {
                format!("cannot be claimed: {e}")
            };
            io::Error::new(
                e.kind(),
                format!(
                    "({}) VRID {} on {} ({family}) {why}",
                    cfg.name, cfg.vrid, cfg.interface
                ),
            )
        })?;
        Ok(Router {
            core: Instance::new(spec, unspecified(cfg.family)),
            _claim: claim,
            iface: 0,
            vmacs: Vec::new(),
            vmac_source: None,
            drops: Counters::default(),
            adverts_rx: 0,
            adverts_tx: 0,
            stats: Stats::default(),
            drop_log: [(None, 0); Drop::ALL.len()],
            extras: routes::Installed::default(),
            cfg: cfg.clone(),
        })
    }

    pub fn spec(&self) -> &Spec {
        self.core.spec()
    }

    /// Whether a reload can change this instance into `cfg` in place: the same virtual router
    /// (VRID, interface, version and family) on the same links (its macvlans unchanged:
    /// moving the VIPs between links is a restart). Anything else is another router, restarted.
    pub fn continues_as(&self, cfg: &config::Instance) -> bool {
        let spec = spec_of(cfg);
        self.cfg.interface == cfg.interface
            && self.spec().vrid == spec.vrid
            && self.spec().version == spec.version
            && self.cfg.vmacs == cfg.vmacs
    }

    /// Takes a reloaded configuration in place (see [`Router::continues_as`]); `out` gets what
    /// the core wants done (announcing changed VIPs), for after the daemon has added them. The
    /// VIPs in the kernel are the daemon's to diff (`vips_missing`), before and after this.
    pub fn reconfigure(&mut self, now: Instant, cfg: &config::Instance, out: &mut Actions) {
        self.core.reconfigure(now, spec_of(cfg), out);
        self.cfg = cfg.clone();
    }

    pub fn is_master(&self) -> bool {
        self.core.state() == State::Master
    }

    /// Counts a dropped advert and logs it, at most once per reason per period.
    pub fn dropped(&mut self, now: Instant, d: Drop) {
        let total = self.drops.count(d);
        let (last, since) = &mut self.drop_log[d as usize];
        *since += 1;
        if last.is_some_and(|t| now < t + DROP_LOG_PERIOD) {
            return;
        }
        let what = match d {
            Drop::Len => "bad length",
            Drop::Ttl => "TTL or hop limit not 255",
            Drop::Version => "wrong VRRP version",
            Drop::Type => "unknown packet type",
            Drop::Checksum => "bad checksum",
            Drop::Auth => "received an invalid passwd (auth_pass differs from ours)",
            Drop::AuthType => "authentication type differs (auth_type PASS on one side only)",
            Drop::Interval => "advert interval differs from ours",
            Drop::Addrs => "virtual address list differs from ours",
            Drop::Peer => "source is not a configured unicast peer",
            Drop::Vrid => "VRID not configured here",
        };
        warn!(
            "({}) dropped {} advert(s): {what} ({total} in all)",
            self.cfg.name, since
        );
        *last = Some(now);
        *since = 0;
    }

    /// The address our adverts come from, which also breaks priority ties: the configured one,
    /// or the interface's primary IPv4 address or lowest usable link-local.
    pub fn source(&self, ifaces: &[Iface]) -> Option<IpAddr> {
        let configured = self.cfg.unicast_src_ip.or(self.cfg.mcast_src_ip);
        configured.or_else(|| {
            let f = ifaces.get(self.iface)?;
            match self.cfg.family {
                Family::V4 => f.primary.map(IpAddr::V4),
                Family::V6 => f.link_local.map(IpAddr::V6),
            }
        })
    }

    /// The ifindex a VIP lives on (see `config::Instance::link_of`).
    pub fn ifindex_of(&self, v: &config::Vip, ifaces: &[Iface]) -> Option<u32> {
        let name = self.cfg.link_of(v);
        ifaces
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.ifindex)
            .filter(|&i| i != 0)
    }

    /// Whether `addr` on `ifindex` is one of this instance's virtual addresses.
    pub fn has_vip(&self, ifindex: u32, addr: IpAddr, ifaces: &[Iface]) -> bool {
        self.all_vips()
            .any(|v| v.addr == addr && self.ifindex_of(v, ifaces) == Some(ifindex))
    }

    /// Carries out the core's `actions` for this instance, number `k` in the daemon's table.
    /// Adverts and announcements are queued in `tx` and leave when the daemon flushes it, with
    /// those of the other instances that fell due together.
    pub fn execute(
        &mut self,
        k: usize,
        actions: &[Action],
        netlink: &mut Netlink,
        tx: &mut Tx,
        garp: &PacketSocket,
        ifaces: &[Iface],
    ) {
        for a in actions {
            match *a {
                Action::Transition { to, reason, .. } => {
                    if !self.vmacs.is_empty() {
                        // The macvlans go up or down below: what is queued (a priority-0
                        // advert through it) leaves first.
                        tx.flush(ifaces, garp);
                    }
                    if reason != Reason::Startup {
                        info!("({}) {reason}", self.cfg.name);
                    }
                    info!("({}) Entering {to} STATE", self.cfg.name);
                    // The macvlan is up only while master, so that nothing (ARP replies,
                    // IPv6 or IGMP chatter) leaves a backup with the virtual MAC. A master
                    // comes up before its first advert; one leaving goes down after its
                    // priority-0 advert and the VIPs' removal, which come first.
                    self.set_vmac_up(to == State::Master, netlink, ifaces);
                }
                Action::SendAdvert { priority } => self.send_advert(k, priority, tx, garp, ifaces),
                Action::AddVips => {
                    self.add_vips(netlink, ifaces);
                    let who = routes::Owner(&self.cfg.name);
                    routes::install(who, &self.cfg.extras, &mut self.extras, netlink);
                }
                Action::RemoveVips => {
                    // A master leaving tells the backups (its priority-0 advert, queued just
                    // before, through the macvlan if it has one) before it lets go of the
                    // addresses or takes the macvlan down.
                    tx.flush(ifaces, garp);
                    // The macvlan goes down first: the kernel then drops its IPv6 addresses
                    // itself, and the MLD reports it queues for addresses removed from an up
                    // link can never leave from the virtual MAC.
                    self.set_vmac_up(false, netlink, ifaces);
                    let who = routes::Owner(&self.cfg.name);
                    routes::withdraw(who, &self.cfg.extras, &mut self.extras, netlink);
                    self.remove_vips(netlink, ifaces);
                }
                Action::Announce { first, end, repeat } => {
                    self.announce(k, (first, end, repeat.max(1)), tx, garp, ifaces)
                }
                Action::AnnounceLinks => self.announce_links(k, tx, garp, ifaces),
            }
        }
    }

    /// Where adverts leave from: the macvlan (source MAC the virtual MAC, as RFC 5798 §7.3
    /// asks) unless `vmac_xmit_base`, else the interface. They are always received on the
    /// interface, whose socket joins the group.
    pub fn tx_iface(&self) -> usize {
        self.advert_vmac().unwrap_or(self.iface)
    }

    fn send_advert(
        &mut self,
        k: usize,
        priority: u8,
        tx: &mut Tx,
        garp: &PacketSocket,
        ifaces: &[Iface],
    ) {
        let via = self.tx_iface();
        let Some(f) = ifaces.get(via) else {
            return;
        };
        let Some(src) = self.source(ifaces) else {
            debug!(
                "({}) cannot send advert: {} has no address to send from",
                self.cfg.name, f.name
            );
            return;
        };
        let has_socket = match src {
            IpAddr::V4(_) => f.v4.sock.is_some(),
            IpAddr::V6(_) => f.v6.sock.is_some(),
        };
        if !has_socket {
            debug!(
                "({}) cannot send advert: no socket on {}",
                self.cfg.name, f.name
            );
            return;
        }
        let multicast = [match src {
            IpAddr::V4(_) => IpAddr::V4(vrrp::MULTICAST_V4),
            IpAddr::V6(_) => IpAddr::V6(vrrp::MULTICAST_V6),
        }];
        let spec = self.core.spec();
        let dsts: &[IpAddr] = if spec.uses_unicast() {
            &spec.peers
        } else {
            &multicast
        };
        let iface = u16::try_from(via).unwrap_or(u16::MAX);
        let mut queued = 0;
        for &dst in dsts {
            let mut buf = [0u8; MAX_PACKET];
            let (n, to) = match (src, dst) {
                (IpAddr::V4(src), IpAddr::V4(dst)) => (
                    self.emit_advert4(&mut buf, priority, src, dst),
                    To::V4 { iface, dst },
                ),
                (IpAddr::V6(src), IpAddr::V6(dst)) => (
                    self.emit_message(&mut buf, priority, src, dst),
                    To::V6 { iface, src, dst },
                ),
                // The reader keeps peers and sources to the instance's family.
                _ => continue,
            };
            let Some(n) = n else {
                warn!("({}) advert does not fit a packet", self.cfg.name);
                continue;
            };
            tx.push(to, k, &buf[..n], ifaces, garp);
            queued += 1;
        }
        // Counted as queued; the daemon takes back those the kernel refuses (Tx::take_failed).
        self.adverts_tx += queued;
    }

    /// Writes the VRRP message alone into `buf`; the length written.
    fn emit_message<A: vrrp::Address>(
        &self,
        buf: &mut [u8],
        priority: u8,
        src: A,
        dst: A,
    ) -> Option<usize> {
        let spec = self.core.spec();
        let repr = spec.advert::<A>(priority);
        let len = repr.buffer_len();
        let body = buf.get_mut(..len)?;
        repr.emit(
            &mut vrrp::Packet::unchecked(body),
            spec.tx_checksum(src, dst),
        );
        Some(len)
    }

    /// Writes IPv4 header + advert into `buf`; the length written.
    fn emit_advert4(
        &self,
        buf: &mut [u8],
        priority: u8,
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) -> Option<usize> {
        let (head, body) = buf.split_at_mut_checked(ipv4::HEADER_LEN)?;
        let vlen = self.emit_message(body, priority, src, dst)?;
        let ip = ipv4::Repr {
            src,
            dst,
            protocol: ipv4::PROTOCOL_VRRP,
            ttl: 255,
            payload_len: vlen,
        };
        ip.emit(&mut ipv4::Packet::new_unchecked(head));
        Some(ipv4::HEADER_LEN + vlen)
    }

    /// The VIPs, then the excluded addresses (added, removed and announced alike, never
    /// advertised).
    pub fn all_vips(&self) -> impl Iterator<Item = &config::Vip> {
        self.cfg.vips.iter().chain(&self.cfg.extras.addrs)
    }

    /// Address `i` of `all_vips`.
    fn vip_at(&self, i: usize) -> Option<&config::Vip> {
        match i.checked_sub(self.cfg.vips.len()) {
            None => self.cfg.vips.get(i),
            Some(j) => self.cfg.extras.addrs.get(j),
        }
    }

    pub fn add_vips(&self, netlink: &mut Netlink, ifaces: &[Iface]) {
        self.add_these(self.all_vips(), netlink, ifaces);
    }

    /// Adds some of our VIPs (a reload adds only the new ones).
    pub fn add_these<'a>(
        &self,
        vips: impl IntoIterator<Item = &'a config::Vip>,
        netlink: &mut Netlink,
        ifaces: &[Iface],
    ) {
        for v in vips {
            let Some(ifindex) = self.ifindex_of(v, ifaces) else {
                warn!(
                    "({}) cannot add {}: interface missing",
                    self.cfg.name, v.addr
                );
                continue;
            };
            if let Err(e) = netlink.add_addr(&vip_spec(v, ifindex)) {
                warn!(
                    "({}) cannot add {}/{}: {e}",
                    self.cfg.name, v.addr, v.prefix_len
                );
            }
        }
    }

    fn remove_vips(&self, netlink: &mut Netlink, ifaces: &[Iface]) {
        self.remove_these(self.all_vips(), netlink, ifaces);
    }

    /// Removes some of our VIPs (a reload removes only those that left the configuration).
    pub fn remove_these<'a>(
        &self,
        vips: impl IntoIterator<Item = &'a config::Vip>,
        netlink: &mut Netlink,
        ifaces: &[Iface],
    ) {
        for v in vips {
            let Some(ifindex) = self.ifindex_of(v, ifaces) else {
                continue;
            };
            if let Err(e) = netlink.del_addr(ifindex, v.addr, v.prefix_len) {
                warn!(
                    "({}) cannot remove {}/{}: {e}",
                    self.cfg.name, v.addr, v.prefix_len
                );
            }
        }
    }

    /// Frames `first..end` of a burst: a gratuitous ARP for an IPv4 address, an unsolicited
    /// neighbour advertisement for an IPv6 one; frame `f` is for address `f / repeat`. Queued
    /// in `tx`, so the bursts of instances becoming master together leave in one batch.
    fn announce(
        &self,
        k: usize,
        (first, end, repeat): (u32, u32, u32),
        tx: &mut Tx,
        garp: &PacketSocket,
        ifaces: &[Iface],
    ) {
        let mut router = false;
        for f in first..end {
            let Some(v) = self.vip_at((f / repeat) as usize) else {
                return;
            };
            let name = self.cfg.link_of(v);
            let Some(dev) = ifaces.iter().find(|i| i.name == name && i.ifindex != 0) else {
                continue;
            };
            if f == first || f % repeat == 0 {
                let what = match v.addr {
                    IpAddr::V4(_) => "gratuitous ARPs",
                    IpAddr::V6(_) => "unsolicited neighbour adverts",
                };
                if f % repeat == 0 {
                    info!(
                        "({}) Sending {what} on {name} for {}",
                        self.cfg.name, v.addr
                    );
                }
                // Read once per address and burst: the Router flag follows the sysctl, the
                // parent's for a macvlan (which took the default when it was made).
                let fwd = self
                    .cfg
                    .vmacs
                    .iter()
                    .find(|m| m.name == name)
                    .map_or(name, |m| m.parent.as_str());
                router = v.addr.is_ipv6() && sysctl::ipv6_forwarding(fwd);
            }
            let mut frame = [0u8; MAX_FRAME];
            let n = match v.addr {
                IpAddr::V4(ip) => arp::Repr {
                    sender_mac: dev.mac,
                    ip,
                }
                .emit(&mut frame),
                IpAddr::V6(vip) => ndisc::Unsolicited {
                    mac: dev.mac,
                    vip,
                    router,
                }
                .emit(&mut frame),
            };
            let Ok(n) = n else {
                continue;
            };
            let to = To::Frame {
                ifindex: dev.ifindex,
            };
            tx.push(to, k, &frame[..n], ifaces, garp);
        }
    }
}

impl Router {
    /// `garp_extra_if`: one announcement, for its first address, on each link holding our
    /// addresses that sends no adverts (adverts keep switches at the MAC they come from): the
    /// macvlans (the instance's own with `vmac_xmit_base`), and with `all` the VIPs' other
    /// links too.
    fn announce_links(&self, k: usize, tx: &mut Tx, garp: &PacketSocket, ifaces: &[Iface]) {
        let via = ifaces.get(self.tx_iface()).map(|f| f.name.as_str());
        let is_vmac = |dev: &str| self.cfg.vmacs.iter().any(|m| m.name == dev);
        let mut done: heapless::Vec<&str, { crate::limits::MAX_INTERFACES }> = heapless::Vec::new();
        for (n, v) in self.all_vips().enumerate() {
            let dev = self.cfg.link_of(v);
            let wanted = is_vmac(dev) || self.cfg.garp_extra_if.all;
            if !wanted || Some(dev) == via || done.contains(&dev) {
                continue;
            }
            let _ = done.push(dev);
            let n = u32::try_from(n).unwrap_or(u32::MAX);
            self.announce(k, (n, n.saturating_add(1), 1), tx, garp, ifaces);
        }
    }
}

/// Room for the longest announcement frame.
const MAX_FRAME: usize = if arp::FRAME_LEN > ndisc::FRAME_LEN {
    arp::FRAME_LEN
} else {
    ndisc::FRAME_LEN
};

/// The unspecified address of `family`, the source until the interface has one.
fn unspecified(family: Family) -> IpAddr {
    match family {
        Family::V4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Family::V6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}
