//! What follows the VIPs into the kernel: a master's virtual routes and rules, and the static
//! addresses, routes and rules (always). Installed and withdrawn with the VIPs, retried when a
//! link or an address appears (a gateway that was not reachable may be now), restored when
//! someone deletes one, and swept at start-up when a killed run left them behind.
//!
//! IPv4 and IPv6 alike. The kernel drops IPv4 routes without a word when their interface goes
//! down or their source address goes away, so after such news every route counts as absent
//! again and is re-added (an identical route answers EEXIST, which is success).

use log::{info, warn};

use super::Daemon;
use crate::config::{self, Extras, Route, RuleAction};
use crate::limits::{MAX_NEXTHOPS, MAX_ROUTES, MAX_RULES, MAX_STATIC_ROUTES, MAX_STATIC_RULES};
use crate::sys::netlink::{self, Netlink, NexthopSpec, RouteKey, RouteSpec, RuleKey, RuleSpec};

// One bit per route and per rule.
const _: () = assert!(MAX_ROUTES <= 64 && MAX_RULES <= 64);
const _: () = assert!(MAX_STATIC_ROUTES <= 64 && MAX_STATIC_RULES <= 64);

/// Which routes and rules of one list are in the kernel, as far as we know, and which failed
/// (logged once, retried quietly).
#[derive(Debug, Default, Clone, Copy)]
pub struct Installed {
    routes: Bits,
    rules: Bits,
}

#[derive(Debug, Default, Clone, Copy)]
struct Bits {
    present: u64,
    failed: u64,
}

impl Bits {
    fn has(&self, i: usize) -> bool {
        self.present & (1 << i) != 0
    }

    /// Records the outcome of adding entry `i` (a `what` shown as `entry`), logging only a
    /// change: the first failure and the success after failures, not every retry.
    fn record<E: core::fmt::Display>(
        &mut self,
        i: usize,
        res: Result<(), E>,
        who: &Owner,
        what: &str,
        entry: &dyn core::fmt::Display,
    ) {
        let bit = 1u64 << i;
        match res {
            Ok(()) => {
                if self.failed & bit != 0 {
                    info!("{who} {what} {entry} installed now");
                }
                self.present |= bit;
                self.failed &= !bit;
            }
            Err(e) => {
                if self.failed & bit == 0 {
                    warn!(
                        "{who} cannot add {what} {entry}: {e}; retrying when a link or an address appears"
                    );
                }
                self.failed |= bit;
            }
        }
    }
}

impl Bits {
    /// Clears the bits of the present `items` that `gone` picks, logging each as a `what`.
    fn unmark<T: core::fmt::Display>(
        &mut self,
        who: &Owner,
        what: &str,
        items: &[T],
        gone: impl Fn(&T) -> bool,
    ) -> bool {
        let mut hit = false;
        for (i, item) in items.iter().enumerate() {
            if self.has(i) && gone(item) {
                warn!("{who} {what} {item} was removed by someone else; restoring it");
                self.present &= !(1 << i);
                hit = true;
            }
        }
        hit
    }
}

impl Installed {
    /// After news that the kernel may have dropped some silently: re-add them all.
    pub fn forget(&mut self) {
        self.routes.present = 0;
        self.rules.present = 0;
    }
}

/// Who owns a list, for log lines: "(VI_1) " or "static ".
pub struct Owner<'a>(pub &'a str);

impl core::fmt::Display for Owner<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.0.is_empty() {
            f.write_str("static")
        } else {
            write!(f, "({})", self.0)
        }
    }
}

/// The kernel request for `r`; Err(name) if an interface it names does not exist now.
fn route_spec<'a>(
    r: &Route,
    nhs: &'a mut heapless::Vec<NexthopSpec, MAX_NEXTHOPS>,
) -> Result<RouteSpec<'a>, String> {
    let index = |name: &str| netlink::ifindex(name).ok_or_else(|| name.to_string());
    nhs.clear();
    for nh in &r.nexthops {
        let ifindex = match nh.dev.as_deref().or(r.dev.as_deref()) {
            Some(d) => index(d)?,
            None => 0,
        };
        // The reader refuses more than MAX_NEXTHOPS.
        let _ = nhs.push(NexthopSpec {
            via: nh.via,
            ifindex,
            weight: nh.weight,
            onlink: nh.onlink,
        });
    }
    let multipath = !r.nexthops.is_empty();
    let oif = match r.dev.as_deref() {
        Some(d) if !multipath => Some(index(d)?),
        _ => None,
    };
    Ok(RouteSpec {
        dst: r.dst,
        dst_len: r.dst_len,
        src: r.from,
        tos: r.tos,
        table: r.table,
        protocol: r.protocol,
        scope: r.scope,
        kind: r.kind,
        onlink: r.onlink,
        pref_src: r.pref_src,
        via: if multipath { None } else { r.via },
        oif,
        metric: r.metric,
        nexthops: nhs,
        append: r.append,
        pref: r.pref,
    })
}

fn rule_spec(r: &config::Rule) -> RuleSpec<'_> {
    let (table, goto) = match r.action {
        RuleAction::Table(t) => (t, None),
        RuleAction::Goto(t) => (0, Some(t)),
        _ => (0, None),
    };
    RuleSpec {
        priority: r.priority,
        from: r.from,
        to: r.to,
        action: r.action.code(),
        table,
        goto,
        invert: r.invert,
        tos: r.tos,
        fwmark: r.fwmark,
        iif: r.iif.as_deref(),
        oif: r.oif.as_deref(),
        protocol: r.protocol,
        suppress_prefixlen: r.suppress_prefixlen,
        l3mdev: r.l3mdev,
        ipproto: r.ipproto,
        sport: r.sport,
        dport: r.dport,
        uidrange: r.uidrange,
    }
}

/// The key the kernel reports for route `r` (interfaces play no part in it).
pub fn route_key(r: &Route) -> RouteKey {
    RouteKey {
        table: r.table,
        dst: r.dst,
        dst_len: r.dst_len,
        src: r.from,
        tos: r.tos,
        metric: netlink::metric_of(r.dst, r.metric),
        protocol: r.protocol,
        kind: r.kind,
    }
}

pub fn rule_key(r: &config::Rule) -> RuleKey {
    rule_spec(r).key()
}

/// Adds the routes and rules of `x` not yet in the kernel. Routes go first, as rules point
/// at their tables. A failure is logged the first time and retried at the next `install`.
pub fn install(who: Owner, x: &Extras, st: &mut Installed, nl: &mut Netlink) {
    let mut nhs = heapless::Vec::new();
    for (i, r) in x.routes.iter().enumerate() {
        if st.routes.has(i) {
            continue;
        }
        let res = match route_spec(r, &mut nhs) {
            Ok(spec) => nl.add_route(&spec).map_err(|e| e.to_string()),
            Err(dev) => Err(format!("interface {dev} does not exist")),
        };
        st.routes.record(i, res, &who, "route", r);
    }
    for (i, r) in x.rules.iter().enumerate() {
        if st.rules.has(i) {
            continue;
        }
        st.rules
            .record(i, nl.add_rule(&rule_spec(r)), &who, "rule", r);
    }
}

/// Deletes the routes and rules of `x` (rules first). Ones that are gone already are fine.
pub fn withdraw(who: Owner, x: &Extras, st: &mut Installed, nl: &mut Netlink) {
    for r in &x.rules {
        if let Err(e) = nl.del_rule(&rule_spec(r)) {
            warn!("{who} cannot remove rule {r}: {e}");
        }
    }
    let mut nhs = heapless::Vec::new();
    for r in &x.routes {
        // Err: its interface is gone, and the kernel took the route with it.
        if let Ok(spec) = route_spec(r, &mut nhs) {
            if let Err(e) = nl.del_route(&spec) {
                warn!("{who} cannot remove route {r}: {e}");
            }
        }
    }
    *st = Installed::default();
}

/// A route or rule of ours that netlink says someone deleted.
pub enum Removed<'a> {
    Route(&'a RouteKey),
    Rule(&'a RuleKey),
}

/// Marks the tracked entries of `x` that match `gone` as absent, with a log line. Returns
/// whether one did (the caller then installs again).
fn mark_removed(who: &Owner, x: &Extras, st: &mut Installed, gone: &Removed) -> bool {
    match gone {
        Removed::Route(key) => st.routes.unmark(who, "route", &x.routes, |r| {
            r.track && route_key(r) == **key
        }),
        Removed::Rule(key) => st
            .rules
            .unmark(who, "rule", &x.rules, |r| r.track && rule_key(r) == **key),
    }
}

/// Adds static addresses (each needs its `dev`, which the reader made sure of).
fn add_addrs(addrs: &[config::Vip], nl: &mut Netlink) {
    for v in addrs {
        let dev = v.dev.as_deref().unwrap_or("eth0");
        let Some(ifindex) = netlink::ifindex(dev) else {
            warn!(
                "static cannot add {}: interface {dev} does not exist",
                v.addr
            );
            continue;
        };
        if let Err(e) = nl.add_addr(&super::router::vip_spec(v, ifindex)) {
            warn!("static cannot add {}/{}: {e}", v.addr, v.prefix_len);
        }
    }
}

fn remove_addrs(addrs: &[config::Vip], nl: &mut Netlink) {
    for v in addrs {
        let Some(ifindex) = netlink::ifindex(v.dev.as_deref().unwrap_or("eth0")) else {
            continue;
        };
        if let Err(e) = nl.del_addr(ifindex, v.addr, v.prefix_len) {
            warn!("static cannot remove {}/{}: {e}", v.addr, v.prefix_len);
        }
    }
}

/// The static addresses, routes and rules, and what of them is in the kernel.
#[derive(Debug, Default)]
pub struct Statics {
    pub cfg: Extras,
    pub installed: Installed,
}

impl Daemon {
    /// At start-up: routes and rules of ours that match an instance's (a killed run's
    /// leftovers) go until that instance is master again; then the static ones go in.
    pub(super) fn routes_start(&mut self) {
        let any = self.statics.cfg.routes.len() + self.statics.cfg.rules.len() > 0
            || self
                .routers
                .iter()
                .any(|r| !r.cfg.extras.routes.is_empty() || !r.cfg.extras.rules.is_empty());
        if !any {
            return;
        }
        if let Err(e) = self.monitor.watch_routes() {
            warn!("cannot follow route and rule changes (deleted ones will not be restored): {e}");
        }
        self.remove_stale_routes();
        add_addrs(&self.statics.cfg.addrs, &mut self.netlink);
        install(
            Owner(""),
            &self.statics.cfg,
            &mut self.statics.installed,
            &mut self.netlink,
        );
    }

    fn remove_stale_routes(&mut self) {
        // Start-up only, so ordinary vectors: however many the killed run left.
        let mut routes: Vec<RouteKey> = Vec::new();
        if let Err(e) = self.netlink.dump_routes(&mut |k| routes.push(k)) {
            warn!("reading routes failed: {e}");
        }
        let mut rules: Vec<RuleKey> = Vec::new();
        if let Err(e) = self.netlink.dump_rules(&mut |k| rules.push(k)) {
            warn!("reading rules failed: {e}");
        }
        let mut nhs = heapless::Vec::new();
        for r in &self.routers {
            let who = Owner(&r.cfg.name);
            for rule in &r.cfg.extras.rules {
                if rules.contains(&rule_key(rule)) {
                    info!("{who} removing stale rule {rule} left by an earlier run");
                    if let Err(e) = self.netlink.del_rule(&rule_spec(rule)) {
                        warn!("{who} cannot remove rule {rule}: {e}");
                    }
                }
            }
            for route in &r.cfg.extras.routes {
                if !routes.contains(&route_key(route)) {
                    continue;
                }
                info!("{who} removing stale route {route} left by an earlier run");
                // By key alone: its gateway or interface may differ from the leftover's.
                let spec = match route_spec(route, &mut nhs) {
                    Ok(s) => RouteSpec {
                        via: None,
                        oif: None,
                        pref_src: None,
                        nexthops: &[],
                        ..s
                    },
                    Err(_) => continue,
                };
                if let Err(e) = self.netlink.del_route(&spec) {
                    warn!("{who} cannot remove route {route}: {e}");
                }
            }
        }
    }

    /// At stop: the static ones go (the instances' went with their VIPs).
    pub(super) fn routes_stop(&mut self) {
        withdraw(
            Owner(""),
            &self.statics.cfg,
            &mut self.statics.installed,
            &mut self.netlink,
        );
        remove_addrs(&self.statics.cfg.addrs, &mut self.netlink);
    }

    /// Retries what failed or went missing: masters' routes and rules, and the static ones.
    /// `forget`: the kernel may have dropped some silently (a link went down and up, lost
    /// events), so everything is re-added.
    pub(super) fn routes_retry(&mut self, forget: bool) {
        for r in self.routers.iter_mut().filter(|r| r.is_master()) {
            if forget {
                r.extras.forget();
            }
            install(
                Owner(&r.cfg.name),
                &r.cfg.extras,
                &mut r.extras,
                &mut self.netlink,
            );
        }
        if forget {
            self.statics.installed.forget();
            add_addrs(&self.statics.cfg.addrs, &mut self.netlink);
        }
        install(
            Owner(""),
            &self.statics.cfg,
            &mut self.statics.installed,
            &mut self.netlink,
        );
    }

    /// A route or rule of ours was deleted: masters and the static lists put theirs back.
    pub(super) fn on_removed(&mut self, gone: Removed) {
        let mut hit = mark_removed(
            &Owner(""),
            &self.statics.cfg,
            &mut self.statics.installed,
            &gone,
        );
        for r in self.routers.iter_mut().filter(|r| r.is_master()) {
            hit |= mark_removed(&Owner(&r.cfg.name), &r.cfg.extras, &mut r.extras, &gone);
        }
        if hit {
            self.routes_retry(false);
        }
    }

    /// Whether `addr` on `ifindex` is a static address (restored when removed).
    pub(super) fn restore_static_addr(&mut self, ifindex: u32, addr: std::net::IpAddr) -> bool {
        let Some(v) = self.statics.cfg.addrs.iter().find(|v| {
            v.addr == addr && netlink::ifindex(v.dev.as_deref().unwrap_or("eth0")) == Some(ifindex)
        }) else {
            return false;
        };
        warn!("static address {addr} was removed by someone else; restoring it");
        add_addrs(core::slice::from_ref(v), &mut self.netlink);
        true
    }

    /// Reload: the static lists take the new configuration, touching only what changed.
    pub(super) fn routes_reload(&mut self, new: &Extras) {
        let old = std::mem::replace(&mut self.statics.cfg, new.clone());
        let gone = old.minus(new);
        remove_addrs(&gone.addrs, &mut self.netlink);
        withdraw(
            Owner(""),
            &gone,
            &mut Installed::default(),
            &mut self.netlink,
        );
        add_addrs(&new.minus(&old).addrs, &mut self.netlink);
        self.statics.installed = carry(&old, new, &self.statics.installed);
        if !new.routes.is_empty() || !new.rules.is_empty() {
            if let Err(e) = self.monitor.watch_routes() {
                warn!("cannot follow route and rule changes: {e}");
            }
        }
        install(
            Owner(""),
            &self.statics.cfg,
            &mut self.statics.installed,
            &mut self.netlink,
        );
    }
}

impl Daemon {
    /// Reload changed instance `k`'s excluded addresses, routes or rules (it had `old`): a
    /// master removes what went and adds what came; what stayed is not touched.
    pub(super) fn reload_extras(&mut self, k: usize, old: &Extras) {
        let Some(r) = self.routers.get_mut(k) else {
            return;
        };
        info!(
            "({}) excluded addresses, routes or rules changed by the reload: applied in place",
            r.cfg.name
        );
        let new = &r.cfg.extras;
        if !r.is_master() {
            return;
        }
        let ifindex =
            |v: &config::Vip| netlink::ifindex(v.dev.as_deref().unwrap_or(&r.cfg.interface));
        let gone = old.minus(new);
        for v in &gone.addrs {
            if let Some(i) = ifindex(v) {
                if let Err(e) = self.netlink.del_addr(i, v.addr, v.prefix_len) {
                    warn!("({}) cannot remove {}: {e}", r.cfg.name, v.addr);
                }
            }
        }
        withdraw(
            Owner(&r.cfg.name),
            &gone,
            &mut Installed::default(),
            &mut self.netlink,
        );
        r.extras = carry(old, new, &r.extras);
        // New excluded addresses (adding one that is there is harmless), then routes and rules.
        r.add_vips(&mut self.netlink, &self.ifaces);
        install(Owner(&r.cfg.name), new, &mut r.extras, &mut self.netlink);
    }
}

/// What is installed of `new`, given what was of `old`: an entry kept (same as written) keeps
/// its state, a new one counts as absent.
pub fn carry(old: &Extras, new: &Extras, st: &Installed) -> Installed {
    let mut out = Installed::default();
    for (i, r) in new.routes.iter().enumerate() {
        if let Some(j) = old.routes.iter().position(|o| o == r) {
            if st.routes.has(j) {
                out.routes.present |= 1 << i;
            }
        }
    }
    for (i, r) in new.rules.iter().enumerate() {
        if let Some(j) = old.rules.iter().position(|o| o == r) {
            if st.rules.has(j) {
                out.rules.present |= 1 << i;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(dsts: &[&str]) -> Extras {
        let text = dsts
            .iter()
            .map(|d| format!("        {d} via 10.0.0.1\n"))
            .collect::<String>();
        let conf = format!(
            "vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 1\n    virtual_ipaddress {{\n        10.0.0.100\n    }}\n    virtual_routes {{\n{text}    }}\n}}\n"
        );
        let loaded = config::load_str(&conf, "t.conf");
        loaded.config.expect("valid").instances[0].extras.clone()
    }

    #[test]
    fn carry_keeps_the_state_of_entries_that_stayed() {
        let old = routes(&["10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16"]);
        let new = routes(&["10.3.0.0/16", "10.4.0.0/16", "10.1.0.0/16"]);
        let st = Installed {
            routes: Bits {
                present: 0b011,
                failed: 0b100,
            },
            rules: Bits::default(),
        };
        // 10.1 was present and stays (now index 2); 10.3 had failed: absent; 10.4 is new.
        let out = carry(&old, &new, &st);
        assert_eq!(out.routes.present, 0b100);
        assert_eq!(out.routes.failed, 0);
    }
}
