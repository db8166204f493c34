//! Checks that need the whole file: names defined once, references resolve, VRIDs unique per
//! interface, and the fixed limits of `crate::limits`. Produces the final [`Config`].

use std::collections::{BTreeSet, HashMap};

use super::common::Tracking;
use super::diag::{Pos, Sink};
use super::instance::RawInstance;
use super::others::RawSyncGroup;
use super::parse::Parsed;
use super::process::TrackProcess;
use super::resolve::resolve;
use super::rule;
use super::types::{Config, Family, Instance, Script, SyncGroup, TrackFile};
use crate::limits::{
    MAX_INSTANCES, MAX_INTERFACES, MAX_STATIC_ADDRS, MAX_STATIC_ROUTES, MAX_STATIC_RULES,
    MAX_TRACK_PROCESSES,
};

/// Reports `what 'name'` defined a second time at `pos` (first at `first`).
fn duplicate(sink: &mut Sink, pos: Pos, what: &str, name: &str, first: Pos) {
    let first = sink.location(first);
    sink.error(
        pos,
        format!("{what} '{name}' is defined twice (first at {first})"),
    );
}

pub(crate) fn finish(mut parsed: Parsed, sink: &mut Sink) -> Config {
    let all_rules = parsed.statics.rules.iter_mut().chain(
        parsed
            .instances
            .iter_mut()
            .flat_map(|i| i.extras.rules.iter_mut()),
    );
    rule::number_rules(all_rules, sink);
    let statics = parsed
        .statics
        .finish(
            [
                (MAX_STATIC_ADDRS, "MAX_STATIC_ADDRS"),
                (MAX_STATIC_ROUTES, "MAX_STATIC_ROUTES"),
                (MAX_STATIC_RULES, "MAX_STATIC_RULES"),
            ],
            "static",
            sink,
        )
        .unwrap_or_default();
    let strict_at = parsed.global.strict;
    let global = parsed.global.finish();

    // Tracking given on a sync group applies to each member (the first group naming it; a
    // second is an error below).
    let mut group_of: HashMap<&str, &RawSyncGroup> = HashMap::new();
    for g in &parsed.sync_groups {
        for (member, _) in &g.members {
            group_of.entry(member.as_str()).or_insert(g);
        }
    }

    let mut script_names: HashMap<String, Pos> = HashMap::new();
    let mut scripts = Vec::new();
    for (script, pos) in parsed.scripts {
        if let Some(first) = script_names.get(&script.name) {
            duplicate(sink, pos, "vrrp_script", &script.name, *first);
            continue;
        }
        script_names.insert(script.name.clone(), pos);
        scripts.push(script);
    }

    let mut file_names: HashMap<String, Pos> = HashMap::new();
    let mut track_files = Vec::new();
    for (track, pos) in parsed.track_files {
        if let Some(first) = file_names.get(&track.name) {
            duplicate(sink, pos, "vrrp_track_file", &track.name, *first);
            continue;
        }
        file_names.insert(track.name.clone(), pos);
        track_files.push(track);
    }

    let mut process_names: HashMap<String, Pos> = HashMap::new();
    let mut track_processes = Vec::new();
    for (track, pos) in parsed.track_processes {
        if let Some(first) = process_names.get(&track.name) {
            duplicate(sink, pos, "vrrp_track_process", &track.name, *first);
            continue;
        }
        if track_processes.len() == MAX_TRACK_PROCESSES {
            sink.error(
                pos,
                format!(
                    "more than {MAX_TRACK_PROCESSES} vrrp_track_process blocks (limit MAX_TRACK_PROCESSES)"
                ),
            );
        }
        process_names.insert(track.name.clone(), pos);
        track_processes.push(track);
    }
    let names = Names {
        scripts: &script_names,
        files: &file_names,
        processes: &process_names,
    };

    // Names of every instance read, including ones that cannot run, so that a sync group
    // naming a broken instance is not also told the instance does not exist.
    let mut instance_names: HashMap<String, Pos> = HashMap::new();
    let mut vrids: HashMap<(String, u8, Family), String> = HashMap::new();
    let mut interfaces: BTreeSet<String> = BTreeSet::new();
    let mut interfaces_reported = false;
    let mut vmac_names: HashMap<String, String> = HashMap::new();
    let mut vmac_at: Vec<(String, Pos)> = Vec::new();
    // The kernel brings up one macvlan per MAC on an interface (EADDRINUSE for the next).
    let mut vmac_macs: HashMap<(String, [u8; 6]), String> = HashMap::new();
    let mut instances = Vec::new();
    for raw in &parsed.instances {
        if let Some(first) = instance_names.get(&raw.name) {
            duplicate(sink, raw.pos, "vrrp_instance", &raw.name, *first);
            continue;
        }
        instance_names.insert(raw.name.clone(), raw.pos);
        check_refs(&raw.track, &names, sink);
        let group = group_of.get(raw.name.as_str()).copied();
        let tracking = group.map(|g| (g.name.as_str(), &g.track));
        let Some(mut inst) = resolve(raw, &global, tracking, strict_at, sink) else {
            continue;
        };
        if let Some(g) = group.filter(|g| !g.tracking_weight) {
            let defs = (&scripts[..], &track_files[..], &track_processes[..]);
            unweighted_in_group(&mut inst, &g.name, defs, raw.pos, sink);
        }
        // An IPv4 and an IPv6 instance may share a VRID on one link (dual stack).
        let key = (inst.interface.clone(), inst.vrid, inst.family);
        if let Some(other) = vrids.get(&key) {
            sink.error(
                raw.pos,
                format!(
                    "virtual_router_id {} on {} is already used by vrrp_instance '{other}'",
                    inst.vrid, inst.interface
                ),
            );
        } else {
            vrids.insert(key, inst.name.clone());
        }
        // Every interface the daemon must watch: its own, tracked ones, VIP devices, and the
        // macvlans it makes.
        interfaces.insert(inst.interface.clone());
        interfaces.extend(inst.track_interfaces.iter().map(|t| t.name.clone()));
        interfaces
            .extend((inst.vips.iter().chain(&inst.extras.addrs)).filter_map(|v| v.dev.clone()));
        for (j, v) in inst.vmacs.iter().enumerate() {
            // The instance's own is where use_vmac is; the others come from use_vmac_addr,
            // use_vmac (the other family) or a VIP's use_vmac.
            let use_vmac = raw.vmac.as_ref().map(|o| o.pos);
            let at = if j == 0 && use_vmac.is_some() {
                use_vmac
            } else {
                raw.vmac_addr.or(use_vmac)
            }
            .unwrap_or(raw.pos);
            if let Some(other) = vmac_names.get(&v.name) {
                sink.error(
                    at,
                    format!(
                        "use_vmac interface {} is already used by vrrp_instance '{other}'",
                        v.name
                    ),
                );
            } else if let Some(other) = vmac_macs.get(&(v.parent.clone(), v.mac)) {
                sink.error(
                    at,
                    format!(
                        "macvlan {} on {} would have the MAC of {other} on it; the kernel \
                         allows one macvlan per MAC on an interface",
                        v.name, v.parent
                    ),
                );
            } else {
                vmac_names.insert(v.name.clone(), inst.name.clone());
                vmac_macs.insert((v.parent.clone(), v.mac), v.name.clone());
                vmac_at.push((v.name.clone(), at));
            }
            interfaces.insert(v.name.clone());
        }
        if interfaces.len() > MAX_INTERFACES && !interfaces_reported {
            sink.error(
                raw.pos,
                format!("more than {MAX_INTERFACES} interfaces (limit MAX_INTERFACES)"),
            );
            interfaces_reported = true;
        }
        if instances.len() == MAX_INSTANCES {
            sink.error(
                raw.pos,
                format!("more than {MAX_INSTANCES} vrrp instances (limit MAX_INSTANCES)"),
            );
        }
        instances.push(inst);
    }
    // A macvlan we create, bring up and down and delete must not be an interface the
    // configuration uses otherwise (its state follows ours, so tracking it would loop).
    for (name, pos) in &vmac_at {
        let used = instances.iter().any(|i| {
            i.interface == *name
                || i.track_interfaces.iter().any(|t| t.name == *name)
                || (i.vips.iter().chain(&i.extras.addrs))
                    .any(|v| v.dev.as_deref() == Some(name.as_str()))
        });
        if used {
            sink.error(
                *pos,
                format!(
                    "use_vmac interface {name} is also used as an interface in the configuration"
                ),
            );
        }
    }

    let mut group_names: HashMap<String, Pos> = HashMap::new();
    let mut member_of: HashMap<String, String> = HashMap::new();
    let mut sync_groups = Vec::new();
    for raw in parsed.sync_groups {
        if let Some(first) = group_names.get(&raw.name) {
            duplicate(sink, raw.pos, "vrrp_sync_group", &raw.name, *first);
            continue;
        }
        group_names.insert(raw.name.clone(), raw.pos);
        check_refs(&raw.track, &names, sink);
        let mut members = Vec::new();
        for (member, pos) in raw.members {
            if !instance_names.contains_key(&member) {
                // keepalived ignores such a member too; a misspelt name shows up here.
                sink.warn(
                    pos,
                    format!(
                        "vrrp_sync_group '{}' names '{member}', which is no vrrp_instance; ignored",
                        raw.name
                    ),
                );
            } else if let Some(other) = member_of.get(&member) {
                sink.error(
                    pos,
                    format!("vrrp_instance '{member}' is already in vrrp_sync_group '{other}'"),
                );
            } else {
                member_of.insert(member.clone(), raw.name.clone());
                members.push(member);
            }
        }
        if members.is_empty() {
            sink.warn(
                raw.pos,
                format!("vrrp_sync_group '{}' has no members; ignored", raw.name),
            );
            continue;
        }
        sync_groups.push(SyncGroup {
            name: raw.name,
            location: sink.location(raw.pos),
            members,
            notify_master: raw.notify.master,
            notify_backup: raw.notify.backup,
            notify_fault: raw.notify.fault,
            notify_stop: raw.notify.stop,
            notify: raw.notify.any,
        });
    }

    strict_filtering(&parsed.instances, &instances, strict_at, sink);

    Config {
        global,
        instances,
        scripts,
        sync_groups,
        track_files,
        track_processes,
        statics,
    }
}

/// As keepalived: weighted script and file tracking in a sync group would let the members'
/// priorities disagree, so there the weights are 0 and a failure means FAULT for the whole
/// group, unless the group has `sync_group_tracking_weight`.
fn unweighted_in_group(
    inst: &mut Instance,
    group: &str,
    (scripts, files, processes): (&[Script], &[TrackFile], &[TrackProcess]),
    at: Pos,
    sink: &mut Sink,
) {
    let mut zeroed = false;
    let mut procs_zeroed = false;
    for r in &mut inst.track_scripts {
        let own = scripts
            .iter()
            .find(|s| s.name == r.name)
            .map_or(0, |s| s.weight);
        zeroed |= r.weight.unwrap_or(own) != 0;
        r.weight = Some(0);
    }
    for r in &mut inst.track_files {
        let own = files
            .iter()
            .find(|f| f.name == r.name)
            .map_or(0, |f| f.weight);
        zeroed |= r.weight.unwrap_or(own) != 0;
        r.weight = Some(0);
    }
    for r in &mut inst.track_processes {
        let own = processes
            .iter()
            .find(|p| p.name == r.name)
            .map_or(0, |p| p.weight);
        procs_zeroed |= r.weight.unwrap_or(own) != 0;
        r.weight = Some(0);
    }
    let kinds = match (zeroed, procs_zeroed) {
        (false, false) => return,
        (true, false) => "track_script/track_file",
        (true, true) => "track_script/track_file/track_process",
        (false, true) => "track_process",
    };
    sink.warn(
        at,
        format!(
            "vrrp_instance '{}' is in vrrp_sync_group '{group}': its {kinds} weights count as 0, so a failure puts the group in FAULT (as in keepalived; 'sync_group_tracking_weight' keeps them)",
            inst.name
        ),
    );
}

/// The names each kind of tracked object is defined under.
struct Names<'a> {
    scripts: &'a HashMap<String, Pos>,
    files: &'a HashMap<String, Pos>,
    processes: &'a HashMap<String, Pos>,
}

/// Every `track_script`, `track_file` and `track_process` names a defined script, file or
/// process.
fn check_refs(track: &Tracking, names: &Names, sink: &mut Sink) {
    let (scripts, files) = (names.scripts, names.files);
    for (r, pos) in &track.processes {
        if !names.processes.contains_key(&r.name) {
            sink.error(
                *pos,
                format!(
                    "track_process '{}' is not defined by any vrrp_track_process",
                    r.name
                ),
            );
        }
    }
    for (r, pos) in &track.scripts {
        if !scripts.contains_key(&r.name) {
            sink.error(
                *pos,
                format!(
                    "track_script '{}' is not defined by any vrrp_script",
                    r.name
                ),
            );
        }
    }
    for (r, pos) in &track.files {
        if !files.contains_key(&r.name) {
            sink.error(
                *pos,
                format!(
                    "track_file '{}' is not defined by any vrrp_track_file",
                    r.name
                ),
            );
        }
    }
}

/// keepalived in strict mode drops traffic to the VIPs of a non-owner without `accept`, with
/// nftables or iptables rules. vrrpd installs none: one warning says so, where strict mode was
/// asked for. (`accept` does not count with VRRPv2, where keepalived resets it: RFC 3768 has no
/// accept mode.)
fn strict_filtering(
    raws: &[RawInstance],
    instances: &[Instance],
    strict_at: Option<Pos>,
    sink: &mut Sink,
) {
    let mut first = None;
    for i in instances.iter().filter(|i| i.strict && i.priority != 255) {
        let Some(raw) = raws.iter().find(|r| r.name == i.name) else {
            continue;
        };
        let accept = match raw.accept {
            Some(at) if i.version == 2 => {
                sink.warn(
                    at,
                    "'accept' with VRRPv2 in strict mode does not comply with RFC 3768; ignored, as keepalived resets it",
                );
                false
            }
            other => other.is_some(),
        };
        if !accept && first.is_none() {
            first = Some(raw);
        }
    }
    let Some(first) = first else { return };
    let Some(at) = strict_at.or(first.strict.map(|(_, pos)| pos)) else {
        return;
    };
    sink.warn(
        at,
        "strict mode: vrrpd does not install keepalived's firewall rules that drop traffic to the VIPs of a non-owner (no_accept); the VIPs accept traffic, as with 'accept'",
    );
}

/// Every interface the config names, where, and what happens while it is missing.
pub(crate) fn interface_refs(parsed: &Parsed) -> Vec<(String, Pos, String)> {
    let mut refs = Vec::new();
    let tracked = |refs: &mut Vec<(String, Pos, String)>, track: &Tracking| {
        for (t, pos) in &track.interfaces {
            let what = if t.weight == 0 {
                "it counts as down (FAULT) until it appears"
            } else {
                "it counts as down until it appears"
            };
            refs.push((t.name.clone(), *pos, what.to_string()));
        }
    };
    for raw in &parsed.instances {
        if let (Some(name), Some(pos)) = (&raw.interface, raw.interface_at) {
            let what = format!(
                "vrrp_instance '{}' waits in FAULT until it appears",
                raw.name
            );
            refs.push((name.clone(), pos, what));
        }
        tracked(&mut refs, &raw.track);
        for (vip, pos) in &raw.vips {
            if let Some(dev) = &vip.dev {
                let what = format!("{} cannot be added on it until it appears", vip.addr);
                refs.push((dev.clone(), *pos, what));
            }
        }
    }
    for g in &parsed.sync_groups {
        tracked(&mut refs, &g.track);
    }
    refs
}
