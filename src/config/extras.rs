//! What follows the VIPs, as one shape for an instance and for the static blocks: addresses,
//! routes and rules, read from the six blocks that hold them and checked against their limits.

use super::diag::{Pos, Sink};
use super::route::{Route, read_route};
use super::rule::{RawRule, Rule, read_rule};
use super::tree::Stmt;
use super::types::Vip;
use super::vip;

/// Addresses, routes and rules vrrpd installs besides the advertised VIPs: an instance's
/// (`virtual_ipaddress_excluded`, `virtual_routes`, `virtual_rules`: while it is master) or the
/// static ones (`static_ipaddress`, `static_routes`, `static_rules`: always).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Extras {
    pub addrs: Vec<Vip>,
    pub routes: Vec<Route>,
    pub rules: Vec<Rule>,
}

impl Extras {
    /// The entries of `self` that `other` does not have, exactly as written (a reload's
    /// difference: an entry that changed is one removed and one added).
    pub fn minus(&self, other: &Extras) -> Extras {
        fn left<T: PartialEq + Clone>(a: &[T], b: &[T]) -> Vec<T> {
            a.iter().filter(|x| !b.contains(x)).cloned().collect()
        }
        Extras {
            addrs: left(&self.addrs, &other.addrs),
            routes: left(&self.routes, &other.routes),
            rules: left(&self.rules, &other.rules),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.addrs.is_empty() && self.routes.is_empty() && self.rules.is_empty()
    }
}

/// The same, as read: positions kept for the limit checks and rule numbering.
#[derive(Debug, Default)]
pub(crate) struct RawExtras {
    pub addrs: Vec<(Vip, Pos)>,
    pub routes: Vec<(Route, Pos)>,
    pub rules: Vec<RawRule>,
}

impl RawExtras {
    /// Reads the body of one of the six blocks, named `k`. Returns false for another keyword.
    pub fn read_block(&mut self, k: &str, body: &[Stmt], sink: &mut Sink) -> bool {
        match k {
            "virtual_ipaddress_excluded" | "static_ipaddress" => {
                for s in body {
                    if let Some(mut v) = vip::read(s, sink) {
                        if k == "static_ipaddress" && v.dev.is_none() {
                            sink.warn(
                                s.pos(),
                                format!("static address {} has no 'dev'; using eth0, keepalived's default_interface", v.addr),
                            );
                            v.dev = Some("eth0".into());
                        }
                        if k == "static_ipaddress" && v.on_vmac {
                            sink.warn(
                                s.pos(),
                                format!("'use_vmac' on static address {} is ignored: only an instance's addresses live on its macvlans", v.addr),
                            );
                            v.on_vmac = false;
                        }
                        if self.addrs.iter().any(|(o, _)| o.addr == v.addr) {
                            sink.warn(
                                s.pos(),
                                format!("address {} is listed twice; ignored", v.addr),
                            );
                        } else {
                            self.addrs.push((v, s.pos()));
                        }
                    }
                }
            }
            "virtual_routes" | "static_routes" => {
                for s in body {
                    if let Some(r) = read_route(s, sink) {
                        if self.routes.iter().any(|(o, _)| o == &r) {
                            sink.warn(s.pos(), format!("route {r} is listed twice; ignored"));
                        } else {
                            self.routes.push((r, s.pos()));
                        }
                    }
                }
            }
            "virtual_rules" | "static_rules" => {
                for s in body {
                    self.rules.extend(read_rule(s, sink));
                }
            }
            _ => return false,
        }
        true
    }

    /// Checks the limits (`[addresses, routes, rules]`, each a capacity and its name in
    /// `crate::limits`) and keeps the values; None after an error (reported).
    pub fn finish(
        &self,
        limits: [(usize, &str); 3],
        what: &str,
        sink: &mut Sink,
    ) -> Option<Extras> {
        let firsts_over = [
            self.addrs.get(limits[0].0).map(|a| a.1),
            self.routes.get(limits[1].0).map(|r| r.1),
            self.rules.get(limits[2].0).map(|r| r.pos),
        ];
        let mut ok = true;
        for ((over, (n, name)), kind) in
            firsts_over
                .into_iter()
                .zip(limits)
                .zip(["addresses", "routes", "rules"])
        {
            if let Some(pos) = over {
                sink.error(pos, format!("more than {n} {what} {kind} (limit {name})"));
                ok = false;
            }
        }
        ok.then(|| Extras {
            addrs: self.addrs.iter().map(|(a, _)| a.clone()).collect(),
            routes: self.routes.iter().map(|(r, _)| r.clone()).collect(),
            rules: self.rules.iter().map(|r| r.rule.clone()).collect(),
        })
    }
}
