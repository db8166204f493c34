//! `global_defs { … }`.

use std::time::Duration;

use super::common::{at_least_one, has_block, unknown_in};
use super::diag::Sink;
use super::keywords::{self, Ctx};
use super::tree::Stmt;
use super::types::{Global, Sched};
use super::value::{arg, no_args, stmt_bool, stmt_int, stmt_micros, stmt_u32, user_group};

/// Longest `vrrp_garp_interval` accepted. keepalived only logs that a second or more is "very
/// large"; vrrpd refuses it, since a gap that long would stretch a 5-GARP burst past several
/// advert intervals.
const GARP_INTERVAL_MAX_US: u64 = 1_000_000;

/// global_defs values as read, before defaults are applied (several global_defs blocks merge,
/// and `vrrp_min_garp` changes only the defaults).
#[derive(Debug, Default)]
pub(crate) struct GlobalBuilder {
    router_id: Option<String>,
    vrrp_version: Option<u8>,
    garp_master_delay: Option<u32>,
    garp_master_repeat: Option<u32>,
    garp_master_refresh: Option<u32>,
    garp_master_refresh_repeat: Option<u32>,
    garp_interval: Option<Duration>,
    gna_interval: Option<Duration>,
    script_user: Option<(String, Option<String>)>,
    enable_script_security: bool,
    v3_checksum_as_v2: Option<bool>,
    log_unknown_vrids: bool,
    max_script_children: Option<u32>,
    process_scan_interval: Option<std::time::Duration>,
    sched: Sched,
    min_garp: bool,
    vmac_prefix: Option<String>,
    vmac_addr_prefix: Option<String>,
    garp_extra_if: Option<super::types::ExtraIf>,
    /// Where `vrrp_strict` was.
    pub strict: Option<super::diag::Pos>,
}

impl GlobalBuilder {
    pub fn finish(self) -> Global {
        let d = Global::default();
        // vrrp_min_garp: one GARP, no second burst, unless set explicitly.
        let (delay, repeat) = if self.min_garp {
            (0, 1)
        } else {
            (d.garp_master_delay, d.garp_master_repeat)
        };
        Global {
            router_id: self.router_id,
            vrrp_version: self.vrrp_version.unwrap_or(d.vrrp_version),
            garp_master_delay: self.garp_master_delay.unwrap_or(delay),
            garp_master_repeat: self.garp_master_repeat.unwrap_or(repeat),
            garp_master_refresh: self.garp_master_refresh.unwrap_or(d.garp_master_refresh),
            garp_master_refresh_repeat: self
                .garp_master_refresh_repeat
                .unwrap_or(d.garp_master_refresh_repeat),
            garp_interval: self.garp_interval.unwrap_or(d.garp_interval),
            gna_interval: self.gna_interval.unwrap_or(d.gna_interval),
            script_user: self.script_user,
            enable_script_security: self.enable_script_security,
            v3_checksum_as_v2: self.v3_checksum_as_v2.unwrap_or(d.v3_checksum_as_v2),
            log_unknown_vrids: self.log_unknown_vrids,
            max_script_children: self.max_script_children.unwrap_or(d.max_script_children),
            process_scan_interval: self
                .process_scan_interval
                .unwrap_or(d.process_scan_interval),
            sched: self.sched,
            vmac_prefix: self.vmac_prefix.unwrap_or(d.vmac_prefix),
            vmac_addr_prefix: self.vmac_addr_prefix,
            garp_extra_if: self.garp_extra_if.unwrap_or(d.garp_extra_if),
        }
    }

    /// Reads one global_defs block into `self`.
    pub fn read(&mut self, body: &[Stmt], sink: &mut Sink) {
        for stmt in body {
            if !keywords::check(Ctx::Global, stmt, sink) || has_block(stmt, sink) {
                continue;
            }
            let k = stmt.keyword();
            match k {
                "router_id" => {
                    if let Some(w) = arg(stmt, "a name", sink) {
                        self.router_id = Some(w.text.clone());
                    }
                }
                "vrrp_version" => {
                    if let Some(v) = stmt_int(stmt, 2, 3, sink) {
                        self.vrrp_version = u8::try_from(v).ok();
                    }
                }
                "vrrp_garp_master_delay" => {
                    if let Some(v) = stmt_u32(stmt, 0, sink) {
                        self.garp_master_delay = Some(v);
                    }
                }
                "vrrp_garp_master_repeat" => {
                    if let Some(v) = stmt_u32(stmt, 0, sink) {
                        self.garp_master_repeat = Some(at_least_one(stmt, v, sink));
                    }
                }
                "vrrp_garp_master_refresh" => {
                    if let Some(v) = stmt_u32(stmt, 0, sink) {
                        self.garp_master_refresh = Some(v);
                    }
                }
                "vrrp_garp_master_refresh_repeat" => {
                    if let Some(v) = stmt_u32(stmt, 0, sink) {
                        self.garp_master_refresh_repeat = Some(at_least_one(stmt, v, sink));
                    }
                }
                "vrrp_garp_interval" => {
                    if let Some(us) = stmt_micros(stmt, GARP_INTERVAL_MAX_US, sink) {
                        self.garp_interval = Some(Duration::from_micros(us));
                    }
                }
                "vrrp_gna_interval" => {
                    if let Some(us) = stmt_micros(stmt, GARP_INTERVAL_MAX_US, sink) {
                        self.gna_interval = Some(Duration::from_micros(us));
                    }
                }
                "vrrp_min_garp" => {
                    if let Some(on) = stmt_bool(stmt, sink) {
                        self.min_garp = on;
                    }
                }
                "script_user" => {
                    if let Some(ug) = user_group(stmt, sink) {
                        self.script_user = Some(ug);
                    }
                }
                "enable_script_security" => {
                    no_args(stmt, sink);
                    self.enable_script_security = true;
                }
                "log_unknown_vrids" => {
                    no_args(stmt, sink);
                    self.log_unknown_vrids = true;
                }
                "v3_checksum_as_v2" => {
                    if let Some(on) = stmt_bool(stmt, sink) {
                        self.v3_checksum_as_v2 = Some(on);
                    }
                }
                "vrrp_priority" => {
                    if let Some(n) = stmt_int(stmt, -20, 19, sink) {
                        self.sched.nice = i8::try_from(n).ok();
                    }
                }
                "vrrp_rt_priority" => {
                    if let Some(n) = stmt_int(stmt, 1, 99, sink) {
                        self.sched.rt_priority = u8::try_from(n).ok();
                    }
                }
                "vrrp_rlimit_rttime" => {
                    if let Some(n) = stmt_int(stmt, 2, i64::from(u32::MAX), sink) {
                        self.sched.rlimit_rttime_us = u32::try_from(n).unwrap_or(u32::MAX);
                    }
                }
                "vrrp_strict" => {
                    no_args(stmt, sink);
                    self.strict = Some(stmt.pos());
                }
                "vrrp_no_swap" => {
                    no_args(stmt, sink);
                    self.sched.no_swap = true;
                }
                "max_script_children" => {
                    let max = crate::limits::MAX_CHILDREN as i64;
                    if let Some(n) = stmt_int(stmt, 1, max, sink) {
                        self.max_script_children = u32::try_from(n).ok();
                    }
                }
                "vrrp_vmac_garp_intvl" | "vrrp_garp_extra_if" => {
                    if let Some(x) = super::vmac::extra_if(stmt, 1, sink) {
                        self.garp_extra_if = Some(x);
                    }
                }
                "vmac_prefix" | "vmac_addr_prefix" => {
                    let slot = if stmt.key.text == "vmac_prefix" {
                        &mut self.vmac_prefix
                    } else {
                        &mut self.vmac_addr_prefix
                    };
                    if let Some(p) = vmac_prefix(stmt, slot.is_some(), sink) {
                        *slot = Some(p);
                    }
                }
                "track_process_scan_interval" => {
                    let d = super::process::scan_interval(stmt, sink);
                    self.process_scan_interval = d.or(self.process_scan_interval);
                }
                _ => unknown(stmt, sink),
            }
        }
    }
}

/// `vmac_prefix WORD` (or `vmac_addr_prefix`): default macvlan names become `WORD.VRID`, so
/// WORD leaves room for the dot and three digits in an interface name. The first one given
/// counts, as in keepalived.
fn vmac_prefix(stmt: &Stmt, again: bool, sink: &mut Sink) -> Option<String> {
    let kw = stmt.key.text.as_str();
    let w = arg(stmt, "a name prefix", sink)?;
    let max = super::value::IFNAME_MAX - ".255".len();
    let bad = |c: char| c == '/' || c == ':' || c.is_whitespace();
    if w.text.is_empty() || w.text.len() > max || w.text.contains(bad) {
        sink.error(
            w.pos,
            format!(
                "'{}' is not a valid {kw} (1-{max} bytes of an interface name, no '/' or ':')",
                w.text
            ),
        );
        return None;
    }
    if again {
        sink.warn(
            w.pos,
            format!("{kw} was given already; '{}' ignored", w.text),
        );
        return None;
    }
    Some(w.text.clone())
}

fn unknown(stmt: &Stmt, sink: &mut Sink) {
    unknown_in(stmt, "global_defs", sink);
}
