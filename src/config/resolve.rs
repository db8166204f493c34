//! From a [`RawInstance`] to an [`Instance`]: defaults and `global_defs` values filled in,
//! and the rules that concern one instance alone (rules across instances are in `validate`).

use std::time::Duration;

use super::common::Tracking;
use super::diag::{Pos, Sink};
use super::instance::RawInstance;
use super::types::{Family, Global, InitialState, Instance, Vip};
use super::value::format_micros;
use super::vmac;
use crate::limits::{MAX_EXCLUDED_VIPS, MAX_PEERS, MAX_ROUTES, MAX_RULES, MAX_VIPS};

/// The instance with defaults and global values filled in, or None if it cannot run.
/// Per-instance rules are checked here; rules across instances are in `validate`.
///
/// `group` is the tracking of the instance's sync group, which applies to it too; `strict_at`
/// is where the global `vrrp_strict` was, if it was.
pub(crate) fn resolve(
    raw: &RawInstance,
    g: &Global,
    group: Option<(&str, &Tracking)>,
    strict_at: Option<Pos>,
    sink: &mut Sink,
) -> Option<Instance> {
    let name = &raw.name;
    let mut ok = true;
    let strict = raw.strict.map_or(strict_at.is_some(), |(on, _)| on);
    let interface = raw.interface.clone();
    if interface.is_none() {
        sink.error(
            raw.pos,
            format!("vrrp_instance '{name}' has no 'interface'"),
        );
        ok = false;
    }
    if raw.vrid.is_none() {
        sink.error(
            raw.pos,
            format!("vrrp_instance '{name}' has no 'virtual_router_id'"),
        );
        ok = false;
    }
    let mut state = raw.state.unwrap_or(InitialState::Backup);
    let priority = raw.priority.unwrap_or(100);
    if strict {
        // RFC 3768/5798: only the address owner starts as master.
        let owner = priority == 255;
        if raw.state.is_some() && (state == InitialState::Master) != owner {
            let (now, then) = if owner {
                ("BACKUP", "MASTER")
            } else {
                ("MASTER", "BACKUP")
            };
            sink.warn(
                raw.pos,
                format!(
                    "strict mode: state {now} must match being the address owner (priority 255); starting as {then} (as in keepalived)"
                ),
            );
        }
        state = if owner {
            InitialState::Master
        } else {
            InitialState::Backup
        };
    }
    // As keepalived: the first virtual address (or native_ipv6) makes the instance IPv6, and
    // IPv6 always runs VRRPv3.
    let first_v6 = raw.vips.first().is_some_and(|(v, _)| v.addr.is_ipv6());
    let family = if raw.native_ipv6 || first_v6 {
        Family::V6
    } else {
        Family::V4
    };
    let mut version = raw.version.unwrap_or(g.vrrp_version);
    if family == Family::V6 && version == 2 {
        if raw.version.is_some() {
            sink.warn(
                raw.pos,
                format!("vrrp_instance '{name}' is IPv6, which needs VRRPv3: 'version 2' ignored (as in keepalived)"),
            );
        }
        version = 3;
    }
    let (vips, other_family) = sort_vips(raw, family, sink);
    if family == Family::V6 {
        if let Some(v) = vips.first() {
            if !is_link_local(v.addr) {
                sink.warn(
                    raw.vips[0].1,
                    format!(
                        "the first IPv6 virtual address {} is not link-local (RFC 5798 section 5.2.9 wants it first, as keepalived warns)",
                        v.addr
                    ),
                );
            }
        }
    }
    let of_family = |what: &str, (a, at): (std::net::IpAddr, super::diag::Pos), sink: &mut Sink| {
        if Family::of(a) == family {
            return Some(a);
        }
        sink.warn(
            at,
            format!("{what} {a} is not of the instance's address family; ignored"),
        );
        None
    };
    let unicast_src_ip = raw
        .unicast_src_ip
        .and_then(|x| of_family("unicast_src_ip", x, sink));
    let mcast_src_ip = raw
        .mcast_src_ip
        .and_then(|x| of_family("mcast_src_ip", x, sink));
    let unicast_peers: Vec<_> = raw
        .peers
        .iter()
        .filter_map(|&x| of_family("unicast_peer", x, sink))
        .collect();
    let advert_int_cs = advert_cs(raw, version, sink);
    ok &= advert_int_cs.is_some();

    let mut preempt = true;
    if let Some(pos) = raw.nopreempt {
        if priority == 255 {
            sink.warn(
                pos,
                "'nopreempt' has no effect with priority 255: the address owner always preempts",
            );
        } else if state == InitialState::Master {
            sink.warn(
                pos,
                "'nopreempt' needs 'state BACKUP' (as in keepalived); vrrpd keeps preemption on",
            );
        } else {
            preempt = false;
        }
    }
    let mut preempt_delay = Duration::ZERO;
    if let Some((d, pos)) = raw.preempt_delay.filter(|(d, _)| !d.is_zero()) {
        if strict {
            sink.warn(
                pos,
                "'preempt_delay' is not allowed in strict mode; ignored (as in keepalived)",
            );
        } else if state == InitialState::Master {
            sink.warn(
                pos,
                "'preempt_delay' has no effect with 'state MASTER' (as in keepalived); ignored",
            );
        } else if !preempt {
            sink.warn(
                pos,
                "'preempt_delay' has no effect with 'nopreempt'; ignored",
            );
        } else {
            preempt_delay = d;
        }
    }

    let mut auth_pass = None;
    if let Some(auth) = &raw.auth {
        if strict {
            sink.warn(
                auth.pos,
                "strict mode does not support authentication; ignored, adverts go without it (as in keepalived)",
            );
        } else if version == 3 {
            sink.warn(
                auth.pos,
                "authentication is ignored with VRRPv3 (as in keepalived)",
            );
        } else {
            match (auth.pass_type, auth.pass) {
                (Some(true), Some(p)) => auth_pass = Some(p),
                (Some(true), None) => {
                    sink.error(auth.pos, "auth_type PASS needs an auth_pass");
                    ok = false;
                }
                (Some(false), _) => ok = false,
                (None, Some(_)) => sink.warn(
                    auth.pos,
                    "auth_pass without 'auth_type PASS'; no authentication is used",
                ),
                (None, None) => {}
            }
        }
    }

    if let (true, Some(at)) = (strict, raw.unicast_peer_at) {
        sink.error(at, "unicast peers are not allowed in strict mode");
        ok = false;
    } else if let Some(at) = raw.unicast_peer_at {
        if unicast_peers.is_empty() {
            sink.error(
                at,
                "unicast_peer has no addresses: vrrpd will not fall back to multicast",
            );
            ok = false;
        }
    } else if let Some((_, at)) = raw.unicast_src_ip {
        sink.error(
            at,
            "unicast_src_ip given but no unicast_peer: vrrpd will not fall back to multicast",
        );
        ok = false;
    }
    if let Some((_, at)) = raw.peers.get(MAX_PEERS) {
        sink.error(
            *at,
            format!("more than {MAX_PEERS} unicast peers (limit MAX_PEERS)"),
        );
        ok = false;
    }
    if let Some((_, at)) = raw.vips.get(MAX_VIPS) {
        sink.error(
            *at,
            format!("more than {MAX_VIPS} virtual addresses (limit MAX_VIPS)"),
        );
        ok = false;
    }
    if strict && raw.vips.is_empty() {
        sink.error(
            raw.pos,
            format!(
                "vrrp_instance '{name}' has no virtual addresses; strict mode needs at least one"
            ),
        );
        ok = false;
    } else if raw.vips.is_empty() && !raw.no_vips_ok {
        sink.warn(
            raw.pos,
            format!("vrrp_instance '{name}' has no virtual addresses"),
        );
    }

    let extras = raw.extras.finish(
        [
            (MAX_EXCLUDED_VIPS, "MAX_EXCLUDED_VIPS"),
            (MAX_ROUTES, "MAX_ROUTES"),
            (MAX_RULES, "MAX_RULES"),
        ],
        "virtual",
        sink,
    );
    ok &= extras.is_some();
    if let (Some(at), None) = (raw.vmac_xmit_base, &raw.vmac) {
        sink.warn(at, "'vmac_xmit_base' without 'use_vmac' has no effect");
    }
    // Unicast adverts from the macvlan would need ARP from it, which could teach a peer that
    // our own address is at the virtual MAC; keepalived requires vmac_xmit_base here.
    let unicast_base = raw.vmac.is_some() && !raw.peers.is_empty() && raw.vmac_xmit_base.is_none();
    if let (true, Some(v)) = (unicast_base, &raw.vmac) {
        sink.warn(
            v.pos,
            "'use_vmac' with unicast peers: adverts are sent from the interface, as with \
             'vmac_xmit_base' (which keepalived requires here)",
        );
    }

    // Addresses of the other family join the excluded ones, after those written so.
    let extras = extras.map(|mut x| {
        x.addrs.extend(other_family);
        x
    });
    if let Some(x) = &extras {
        if x.addrs.len() > MAX_EXCLUDED_VIPS {
            sink.error(
                raw.pos,
                format!("more than {MAX_EXCLUDED_VIPS} excluded addresses with those of the other address family (limit MAX_EXCLUDED_VIPS)"),
            );
            ok = false;
        }
    }
    if !ok {
        return None;
    }
    let track = match group {
        Some((group, extra)) => with_group_tracking(raw, group, extra, sink),
        None => raw.track.clone(),
    };
    Some(Instance {
        name: name.clone(),
        location: sink.location(raw.pos),
        initial_state: state,
        interface: interface?,
        vrid: raw.vrid?,
        priority,
        advert_int_cs: advert_int_cs?,
        version,
        family,
        preempt,
        preempt_delay,
        auth_pass,
        vips,
        unicast_src_ip,
        unicast_peers,
        mcast_src_ip,
        garp_master_delay: raw.garp_master_delay.unwrap_or(g.garp_master_delay),
        garp_master_repeat: raw.garp_master_repeat.unwrap_or(g.garp_master_repeat),
        garp_master_refresh: raw.garp_master_refresh.unwrap_or(g.garp_master_refresh),
        garp_master_refresh_repeat: raw
            .garp_master_refresh_repeat
            .unwrap_or(g.garp_master_refresh_repeat),
        garp_interval: match family {
            Family::V4 => g.garp_interval,
            Family::V6 => g.gna_interval,
        },
        garp_extra_if: raw.garp_extra_if.unwrap_or(g.garp_extra_if),
        v3_checksum_as_v2: raw.v3_checksum_as_v2.unwrap_or(g.v3_checksum_as_v2),
        kernel_rx_buf_size: raw.kernel_rx_buf_size,
        notify_master: raw.notify.master.clone(),
        notify_backup: raw.notify.backup.clone(),
        notify_fault: raw.notify.fault.clone(),
        notify_stop: raw.notify.stop.clone(),
        notify: raw.notify.any.clone(),
        track_interfaces: track.interfaces.into_iter().map(|(t, _)| t).collect(),
        track_scripts: track.scripts.into_iter().map(|(r, _)| r).collect(),
        track_files: track.files.into_iter().map(|(r, _)| r).collect(),
        track_processes: track.processes.into_iter().map(|(r, _)| r).collect(),
        strict,
        extras: extras?,
        vmacs: Vec::new(),
    })
    .and_then(|mut inst| {
        let wants = vmac::Wants {
            own: raw.vmac.as_ref(),
            addr: raw.vmac_addr.is_some(),
            xmit_base: raw.vmac_xmit_base.is_some() || unicast_base,
            prefix: &g.vmac_prefix,
            addr_prefix: g.vmac_addr_prefix.as_deref().unwrap_or(&g.vmac_prefix),
        };
        let at = raw
            .vmac_addr
            .or(raw.vmac.as_ref().map(|v| v.pos))
            .unwrap_or(raw.pos);
        vmac::place(&mut inst, &wants, at, sink).then_some(inst)
    })
}

/// The instance's own tracking plus its sync group's. A tracker given on both is the group's,
/// as in keepalived, which says so.
fn with_group_tracking(
    raw: &RawInstance,
    group: &str,
    extra: &Tracking,
    sink: &mut Sink,
) -> Tracking {
    let mut track = raw.track.clone();
    let twice = |what: &str, name: &str, pos: Pos, sink: &mut Sink| {
        sink.warn(
            pos,
            format!(
                "{what} '{name}' is given on vrrp_instance '{}' and on its vrrp_sync_group '{group}'; the group's is used",
                raw.name
            ),
        );
    };
    for (t, pos) in &extra.interfaces {
        if let Some(i) = track.interfaces.iter().position(|(o, _)| o.name == t.name) {
            twice("track_interface", &t.name, track.interfaces[i].1, sink);
            track.interfaces.remove(i);
        }
        track.interfaces.push((t.clone(), *pos));
    }
    for (r, pos) in &extra.scripts {
        if let Some(i) = track.scripts.iter().position(|(o, _)| o.name == r.name) {
            twice("track_script", &r.name, track.scripts[i].1, sink);
            track.scripts.remove(i);
        }
        track.scripts.push((r.clone(), *pos));
    }
    for (r, pos) in &extra.files {
        if let Some(i) = track.files.iter().position(|(o, _)| o.name == r.name) {
            twice("track_file", &r.name, track.files[i].1, sink);
            track.files.remove(i);
        }
        track.files.push((r.clone(), *pos));
    }
    for (r, pos) in &extra.processes {
        if let Some(i) = track.processes.iter().position(|(o, _)| o.name == r.name) {
            twice("track_process", &r.name, track.processes[i].1, sink);
            track.processes.remove(i);
        }
        track.processes.push((r.clone(), *pos));
    }
    track
}

/// The advertised addresses (the instance's family), and the virtual addresses of the other
/// family, handled as `virtual_ipaddress_excluded` with a warning. keepalived 2.2.7 warns and
/// drops them ("address family must match VRRP instance … - ignoring"); adding them with the
/// instance keeps what the user listed following the master.
fn sort_vips(raw: &RawInstance, family: Family, sink: &mut Sink) -> (Vec<Vip>, Vec<Vip>) {
    let mut vips = Vec::new();
    let mut excluded = Vec::new();
    for (v, at) in &raw.vips {
        if Family::of(v.addr) == family {
            vips.push(v.clone());
        } else {
            sink.warn(
                *at,
                format!(
                    "virtual address {} is not of the instance's address family ({}): it is handled as virtual_ipaddress_excluded (not advertised; keepalived 2.2.7 ignores it)",
                    v.addr,
                    match family {
                        Family::V4 => "IPv4",
                        Family::V6 => "IPv6",
                    }
                ),
            );
            excluded.push(v.clone());
        }
    }
    (vips, excluded)
}

/// fe80::/10.
fn is_link_local(a: std::net::IpAddr) -> bool {
    matches!(a, std::net::IpAddr::V6(a) if a.segments()[0] & 0xffc0 == 0xfe80)
}

/// The advert interval in centiseconds for `version`, rounding as keepalived does.
fn advert_cs(raw: &RawInstance, version: u8, sink: &mut Sink) -> Option<u16> {
    let Some((us, text, pos)) = &raw.advert else {
        return Some(100);
    };
    let (us, pos) = (*us, *pos);
    let cs = if version == 2 {
        if us == 0 || us > 255_000_000 {
            sink.error(
                pos,
                format!("advert_int {text} is out of range for VRRPv2 (1-255 s)"),
            );
            return None;
        }
        if us % 1_000_000 == 0 {
            us / 10_000
        } else {
            // Nearest whole second, half up, at least 1 (keepalived's rule).
            let secs = ((us + 500_000) / 1_000_000).max(1);
            sink.warn(
                pos,
                format!(
                    "VRRPv2 advert_int must be whole seconds; {text} rounded to {secs} (as in keepalived)"
                ),
            );
            secs * 100
        }
    } else {
        if !(10_000..=40_950_000).contains(&us) {
            sink.error(
                pos,
                format!("advert_int {text} is out of range for VRRPv3 (0.01-40.95 s)"),
            );
            return None;
        }
        if us % 10_000 == 0 {
            us / 10_000
        } else {
            let cs = (us + 5_000) / 10_000;
            sink.warn(
                pos,
                format!(
                    "VRRPv3 advert_int is in units of 0.01 s; {text} rounded to {} (as in keepalived)",
                    format_micros(cs * 10_000)
                ),
            );
            cs
        }
    };
    u16::try_from(cs).ok()
}
