//! The typed configuration the daemon runs from. Every default is resolved by the reader, so
//! nothing here is "unset": what you see is what vrrpd does.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use super::diag::Location;
use super::extras::Extras;
pub use crate::vrrp::Family;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub global: Global,
    pub instances: Vec<Instance>,
    pub scripts: Vec<Script>,
    pub sync_groups: Vec<SyncGroup>,
    pub track_files: Vec<TrackFile>,
    pub track_processes: Vec<super::process::TrackProcess>,
    /// static_ipaddress, static_routes, static_rules.
    pub statics: Extras,
}

impl Config {
    /// Whether any script is configured: a `vrrp_script` or a notify command.
    pub fn runs_scripts(&self) -> bool {
        let notifies = |n: [&Option<String>; 5]| n.iter().any(|x| x.is_some());
        !self.scripts.is_empty()
            || self.instances.iter().any(|i| {
                notifies([
                    &i.notify,
                    &i.notify_master,
                    &i.notify_backup,
                    &i.notify_fault,
                    &i.notify_stop,
                ])
            })
            || self.sync_groups.iter().any(|g| {
                notifies([
                    &g.notify,
                    &g.notify_master,
                    &g.notify_backup,
                    &g.notify_fault,
                    &g.notify_stop,
                ])
            })
    }
}

/// `global_defs`. Defaults are keepalived's.
#[derive(Debug, Clone, PartialEq)]
pub struct Global {
    pub router_id: Option<String>,
    /// `vrrp_version`, the default for instances without `version`.
    pub vrrp_version: u8,
    /// `vrrp_garp_master_delay`: seconds until the second GARP burst after becoming master.
    pub garp_master_delay: u32,
    /// `vrrp_garp_master_repeat`: GARPs per burst.
    pub garp_master_repeat: u32,
    /// `vrrp_garp_master_refresh`: seconds between refresh bursts while master; 0 = never.
    pub garp_master_refresh: u32,
    /// `vrrp_garp_master_refresh_repeat`: GARPs per refresh burst.
    pub garp_master_refresh_repeat: u32,
    /// `vrrp_garp_interval`: gap between GARPs on one interface.
    pub garp_interval: Duration,
    /// `vrrp_gna_interval`: gap between unsolicited neighbour advertisements on one interface.
    pub gna_interval: Duration,
    /// `script_user USER [GROUP]`.
    pub script_user: Option<(String, Option<String>)>,
    pub enable_script_security: bool,
    /// `v3_checksum_as_v2`: the default for instances.
    pub v3_checksum_as_v2: bool,
    /// `log_unknown_vrids`: log adverts for VRIDs no instance runs on their link (those the
    /// socket filter samples, see `sys::bpf`).
    pub log_unknown_vrids: bool,
    /// `max_script_children` (vrrpd's own): scripts running at once. Over it, a run is
    /// skipped and logged. 1..=`limits::MAX_CHILDREN`, default 32.
    pub max_script_children: u32,
    /// How the daemon asks to be scheduled: keepalived's vrrp_priority, vrrp_rt_priority,
    /// vrrp_rlimit_rttime and vrrp_no_swap.
    pub sched: Sched,
    /// `track_process_scan_interval` (vrrpd's own): /proc scans for tracked processes when the
    /// process connector is not available. Default 1 s.
    pub process_scan_interval: Duration,
    /// `vmac_prefix`: `use_vmac` without a name makes `PREFIX.VRID` (default `vrrp`).
    pub vmac_prefix: String,
    /// `vmac_addr_prefix`: the other macvlans (`use_vmac_addr`, a VIP's `use_vmac`) are named
    /// from it (default: `vmac_prefix`), see `config::vmac::place`.
    pub vmac_addr_prefix: Option<String>,
    /// `vrrp_garp_extra_if`, the default of instances' `garp_extra_if`.
    pub garp_extra_if: ExtraIf,
}

/// Scheduling of the daemon. Adverts are only as punctual as the process that sends them, so a
/// busy router may want the VRRP process ahead of everything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sched {
    /// `vrrp_priority`: nice value, -20..=19.
    pub nice: Option<i8>,
    /// `vrrp_rt_priority`: SCHED_RR at this priority, 1..=99.
    pub rt_priority: Option<u8>,
    /// `vrrp_rlimit_rttime`: with real-time scheduling, the CPU time (µs) allowed between
    /// blocking calls before the kernel stops a runaway daemon (default 10000, as keepalived).
    pub rlimit_rttime_us: u32,
    /// `vrrp_no_swap`: lock all memory (mlockall).
    pub no_swap: bool,
}

impl Default for Sched {
    fn default() -> Self {
        Sched {
            nice: None,
            rt_priority: None,
            rlimit_rttime_us: 10_000,
            no_swap: false,
        }
    }
}

impl Default for Global {
    fn default() -> Self {
        Global {
            router_id: None,
            vrrp_version: 2,
            garp_master_delay: 5,
            garp_master_repeat: 5,
            garp_master_refresh: 0,
            garp_master_refresh_repeat: 1,
            garp_interval: Duration::ZERO,
            gna_interval: Duration::ZERO,
            script_user: None,
            enable_script_security: false,
            v3_checksum_as_v2: false,
            log_unknown_vrids: false,
            max_script_children: 32,
            sched: Sched::default(),
            process_scan_interval: Duration::from_secs(1),
            vmac_prefix: super::vmac::DEFAULT_NAME_PREFIX.to_string(),
            vmac_addr_prefix: None,
            garp_extra_if: ExtraIf::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitialState {
    Master,
    Backup,
}

/// One `vrrp_instance`.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    pub name: String,
    /// Where `vrrp_instance NAME {` is.
    pub location: Location,
    pub initial_state: InitialState,
    pub interface: String,
    pub vrid: u8,
    /// 1..=255; 255 is the address owner.
    pub priority: u8,
    /// Advertisement interval in centiseconds (a whole number of seconds for VRRPv2).
    pub advert_int_cs: u16,
    /// 2 or 3; always 3 for IPv6.
    pub version: u8,
    /// IPv4, or IPv6 when the first virtual address is IPv6 (or `native_ipv6`), as keepalived.
    pub family: Family,
    pub preempt: bool,
    pub preempt_delay: Duration,
    /// VRRPv2 simple-text password, zero-padded; None = no authentication.
    pub auth_pass: Option<[u8; 8]>,
    /// Advertised, all of the instance's family.
    pub vips: Vec<Vip>,
    /// Of the instance's family (IPv6: link-local, scoped to `interface`).
    pub unicast_src_ip: Option<IpAddr>,
    pub unicast_peers: Vec<IpAddr>,
    pub mcast_src_ip: Option<IpAddr>,
    pub garp_master_delay: u32,
    pub garp_master_repeat: u32,
    pub garp_master_refresh: u32,
    pub garp_master_refresh_repeat: u32,
    /// The global `vrrp_garp_interval` (IPv4) or `vrrp_gna_interval` (IPv6): gap between the
    /// announcements of a burst.
    pub garp_interval: std::time::Duration,
    pub garp_extra_if: ExtraIf,
    pub v3_checksum_as_v2: bool,
    /// `kernel_rx_buf_size`: bytes of receive queue this instance adds to its link's VRRP
    /// socket (SO_RCVBUF); None leaves the system default (net.core.rmem_default).
    pub kernel_rx_buf_size: Option<u32>,
    pub notify_master: Option<String>,
    pub notify_backup: Option<String>,
    pub notify_fault: Option<String>,
    pub notify_stop: Option<String>,
    pub notify: Option<String>,
    pub track_interfaces: Vec<TrackInterface>,
    pub track_scripts: Vec<TrackRef>,
    pub track_files: Vec<TrackRef>,
    pub track_processes: Vec<super::process::ProcessRef>,
    /// `vrrp_strict` / `strict_mode`: RFC behaviour only (no authentication, no unicast, and
    /// no answer to a lower-priority master).
    pub strict: bool,
    /// virtual_ipaddress_excluded, virtual_routes, virtual_rules: installed while master.
    pub extras: Extras,
    /// The macvlans with the virtual MAC its addresses live on: `use_vmac` makes one per
    /// family on its interface, `use_vmac_addr` one per other interface too, and a VIP's own
    /// `use_vmac` one for it (`config::vmac::place`). The instance's own (`use_vmac`) is first.
    pub vmacs: Vec<Vmac>,
}

/// `garp_extra_if [all] SECS` (keepalived's older name: `vmac_garp_intvl`): while master, one
/// gratuitous ARP or NA every `secs` on each interface holding VIPs that sends no adverts —
/// the macvlan with `vmac_xmit_base`, and with `all` the other VIP interfaces too — so
/// switches keep those MACs. `secs` 0 is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExtraIf {
    pub secs: u32,
    pub all: bool,
}

/// A macvlan an instance makes: one per interface and address family it puts addresses on.
#[derive(Debug, Clone, PartialEq)]
pub struct Vmac {
    /// `vrrp.VRID` unless named (`config::vmac::place` names the others).
    pub name: String,
    /// The interface it is made on.
    pub parent: String,
    /// Of the addresses on it.
    pub family: Family,
    pub mac: [u8; 6],
    /// Adverts leave from it: the instance's own (`use_vmac` without `vmac_xmit_base`).
    pub adverts: bool,
}

impl Instance {
    /// Adverts go to the unicast peers instead of the multicast group.
    pub fn uses_unicast(&self) -> bool {
        !self.unicast_peers.is_empty()
    }

    /// The macvlan address `v` lives on, if any: the one of its family on its interface.
    pub fn vmac_of(&self, v: &Vip) -> Option<&Vmac> {
        if !v.on_vmac {
            return None;
        }
        let dev = v.dev.as_deref().unwrap_or(&self.interface);
        let family = Family::of(v.addr);
        self.vmacs
            .iter()
            .find(|m| m.parent == dev && m.family == family)
    }

    /// The link address `v` lives on: its macvlan if it has one, else its own `dev` or the
    /// instance's interface.
    pub fn link_of<'a>(&'a self, v: &'a Vip) -> &'a str {
        match self.vmac_of(v) {
            Some(m) => &m.name,
            None => v.dev.as_deref().unwrap_or(&self.interface),
        }
    }

    /// The instance's own macvlan (`use_vmac`): of its family, on its interface.
    pub fn own_vmac(&self) -> Option<&Vmac> {
        self.vmacs
            .iter()
            .find(|m| m.parent == self.interface && m.family == self.family)
    }
}

/// One `virtual_ipaddress` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Vip {
    pub addr: IpAddr,
    /// Default 32 (IPv4) or 128 (IPv6).
    pub prefix_len: u8,
    pub dev: Option<String>,
    pub label: Option<String>,
    /// rtnetlink scope number (0 global, 200 site, 253 link, 254 host, 255 nowhere).
    pub scope: u8,
    /// IPv4 only.
    pub brd: Option<Ipv4Addr>,
    /// It lives on one of its instance's macvlans (`Instance::vmac_of`): its own `use_vmac`,
    /// or the instance's `use_vmac` / `use_vmac_addr` covering it.
    pub on_vmac: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrackInterface {
    pub name: String,
    /// 0 = go to FAULT while the interface is down; otherwise adjust the priority.
    pub weight: i32,
}

/// A `track_script` / `track_file` entry; `weight` None means the script's or file's own.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackRef {
    pub name: String,
    pub weight: Option<i32>,
}

/// One `vrrp_script`.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    pub name: String,
    pub location: Location,
    pub script: String,
    pub interval: Duration,
    pub timeout: Option<Duration>,
    /// -253..=253; 0 = FAULT on failure.
    pub weight: i32,
    pub rise: u32,
    pub fall: u32,
    pub user: Option<(String, Option<String>)>,
}

/// One `vrrp_sync_group`.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncGroup {
    pub name: String,
    pub location: Location,
    pub members: Vec<String>,
    pub notify_master: Option<String>,
    pub notify_backup: Option<String>,
    pub notify_fault: Option<String>,
    pub notify_stop: Option<String>,
    pub notify: Option<String>,
}

/// One `vrrp_track_file` (or `track_file`) definition.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackFile {
    pub name: String,
    pub location: Location,
    pub file: String,
    pub weight: i32,
}

/// A block that remembers where it was written. A reload compares blocks by what they say, not
/// by where they sit in the file, so that moving one does not restart it.
pub trait Located: Clone + PartialEq {
    fn location(&self) -> &Location;
    fn location_mut(&mut self) -> &mut Location;

    /// Equal in everything but the location.
    fn same_as(&self, other: &Self) -> bool {
        let mut other = other.clone();
        other.location_mut().clone_from(self.location());
        *self == other
    }
}

impl Located for Instance {
    fn location(&self) -> &Location {
        &self.location
    }
    fn location_mut(&mut self) -> &mut Location {
        &mut self.location
    }
}

impl Located for Script {
    fn location(&self) -> &Location {
        &self.location
    }
    fn location_mut(&mut self) -> &mut Location {
        &mut self.location
    }
}
