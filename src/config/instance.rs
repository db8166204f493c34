//! `vrrp_instance NAME { … }`, read into a [`RawInstance`]: the values as written, with
//! positions. `resolve` turns it into an `Instance` once the whole file is read.

use std::net::IpAddr;
use std::time::Duration;

use super::common::{Notify, Tracking, at_least_one, has_block, unknown_in};
use super::diag::{Pos, Sink};
use super::extras::RawExtras;
use super::keywords::{self, Ctx};
use super::tree::{Stmt, Word};
use super::types::{InitialState, Vip};
use super::value::{
    addr, arg, ifname, no_args, parse_micros, stmt_bool, stmt_duration, stmt_int, stmt_ip, stmt_u32,
};
use super::vip;
use super::vmac::{self, RawVmac};
use crate::limits::{MAX_PEERS, MAX_VIPS};

/// preempt_delay range (keepalived's): 0..=1000 s.
const PREEMPT_DELAY_MAX_US: u64 = 1_000_000_000;

#[derive(Debug)]
pub(crate) struct Auth {
    pub pos: Pos,
    /// Some(true) for PASS, Some(false) after an error about the type, None if not given.
    pub pass_type: Option<bool>,
    pub pass: Option<[u8; 8]>,
}

/// An instance as written, positions kept for the checks that need the whole file.
#[derive(Debug)]
pub(crate) struct RawInstance {
    pub name: String,
    pub pos: Pos,
    pub state: Option<InitialState>,
    pub interface: Option<String>,
    pub vrid: Option<u8>,
    pub priority: Option<u8>,
    /// Microseconds, as written, where.
    pub advert: Option<(u64, String, Pos)>,
    pub version: Option<u8>,
    /// Where `nopreempt` was, if it is in force (a later `preempt` clears it).
    pub nopreempt: Option<Pos>,
    pub preempt_delay: Option<(Duration, Pos)>,
    pub auth: Option<Auth>,
    /// Both families, in order; `resolve` sorts them by the instance's family.
    pub vips: Vec<(Vip, Pos)>,
    pub no_vips_ok: bool,
    pub native_ipv6: bool,
    pub unicast_src_ip: Option<(IpAddr, Pos)>,
    pub unicast_peer_at: Option<Pos>,
    pub peers: Vec<(IpAddr, Pos)>,
    pub mcast_src_ip: Option<(IpAddr, Pos)>,
    pub garp_master_delay: Option<u32>,
    pub garp_master_repeat: Option<u32>,
    pub garp_master_refresh: Option<u32>,
    pub garp_master_refresh_repeat: Option<u32>,
    pub garp_extra_if: Option<super::types::ExtraIf>,
    pub v3_checksum_as_v2: Option<bool>,
    pub kernel_rx_buf_size: Option<u32>,
    pub notify: Notify,
    pub track: Tracking,
    /// `strict_mode` and where; None: the global `vrrp_strict`.
    pub strict: Option<(bool, Pos)>,
    /// Where `accept` was: traffic to the VIPs is wanted (vrrpd never filters it).
    pub accept: Option<Pos>,
    /// Where `interface` was, for the check that it exists.
    pub interface_at: Option<Pos>,
    /// virtual_ipaddress_excluded, virtual_routes, virtual_rules.
    pub extras: RawExtras,
    pub vmac: Option<RawVmac>,
    pub vmac_xmit_base: Option<Pos>,
    /// Where `use_vmac_addr` was.
    pub vmac_addr: Option<Pos>,
}

/// Reads `vrrp_instance NAME { body }`; None if it has no name. See `resolve` for what
/// happens next.
pub(crate) fn read(stmt: &Stmt, body: &[Stmt], sink: &mut Sink) -> Option<RawInstance> {
    let Some(name) = stmt.args.first() else {
        sink.error(stmt.pos(), "vrrp_instance needs a name");
        return None;
    };
    super::value::extra_words(stmt, 1, sink);
    let mut raw = RawInstance {
        name: name.text.clone(),
        pos: stmt.pos(),
        state: None,
        interface: None,
        vrid: None,
        priority: None,
        advert: None,
        version: None,
        nopreempt: None,
        preempt_delay: None,
        auth: None,
        vips: Vec::new(),
        no_vips_ok: false,
        native_ipv6: false,
        unicast_src_ip: None,
        unicast_peer_at: None,
        peers: Vec::new(),
        mcast_src_ip: None,
        garp_master_delay: None,
        garp_master_repeat: None,
        garp_master_refresh: None,
        garp_master_refresh_repeat: None,
        garp_extra_if: None,
        v3_checksum_as_v2: None,
        kernel_rx_buf_size: None,
        notify: Notify::default(),
        track: Tracking::default(),
        strict: None,
        accept: None,
        interface_at: None,
        extras: RawExtras::default(),
        vmac: None,
        vmac_xmit_base: None,
        vmac_addr: None,
    };
    for s in body {
        raw.statement(s, sink);
    }
    Some(raw)
}

impl RawInstance {
    fn statement(&mut self, s: &Stmt, sink: &mut Sink) {
        if !keywords::check(Ctx::Instance, s, sink) {
            return;
        }
        let k = s.keyword();
        if let Some(block) = &s.block {
            if keywords::opens_block(k, false) {
                no_args(s, sink);
                self.block(k, s.pos(), block, sink);
            } else {
                has_block(s, sink);
            }
            return;
        }
        // A block keyword without its block: the tree builder has reported the missing '{'.
        if keywords::opens_block(k, !s.args.is_empty()) || self.notify.read(s, sink) {
            return;
        }
        match k {
            "state" => {
                if let Some(w) = arg(s, "MASTER or BACKUP", sink) {
                    match w.text.as_str() {
                        "MASTER" => self.state = Some(InitialState::Master),
                        "BACKUP" => self.state = Some(InitialState::Backup),
                        other => sink.error(
                            w.pos,
                            format!("state must be MASTER or BACKUP, not '{other}'"),
                        ),
                    }
                }
            }
            "interface" => {
                if let Some(w) = arg(s, "an interface name", sink) {
                    self.interface = ifname(w, sink).or(self.interface.take());
                    self.interface_at = Some(w.pos);
                }
            }
            "virtual_router_id" => {
                if let Some(v) = stmt_int(s, 1, 255, sink) {
                    self.vrid = u8::try_from(v).ok();
                }
            }
            "priority" => {
                if let Some(v) = stmt_int(s, 1, 255, sink) {
                    self.priority = u8::try_from(v).ok();
                }
            }
            "advert_int" => {
                if let Some(w) = arg(s, "a time in seconds", sink) {
                    match parse_micros(&w.text) {
                        Some(us) => self.advert = Some((us, w.text.clone(), w.pos)),
                        None => sink.error(
                            w.pos,
                            format!(
                                "'{}' is not a valid time in seconds for 'advert_int'",
                                w.text
                            ),
                        ),
                    }
                }
            }
            "version" => {
                if let Some(v) = stmt_int(s, 2, 3, sink) {
                    self.version = u8::try_from(v).ok();
                }
            }
            "nopreempt" => {
                no_args(s, sink);
                self.nopreempt = Some(s.pos());
            }
            "preempt" => {
                no_args(s, sink);
                self.nopreempt = None;
            }
            "preempt_delay" => {
                if let Some(d) = stmt_duration(s, PREEMPT_DELAY_MAX_US, sink) {
                    self.preempt_delay = Some((d, s.pos()));
                }
            }
            "no_virtual_ipaddress" => {
                no_args(s, sink);
                self.no_vips_ok = true;
            }
            // keepalived 1.x: one peer per line, as often as needed.
            "vrrp_unicast_peer" => {
                self.unicast_peer_at = Some(s.pos());
                for w in &s.args {
                    self.peer(w, sink);
                }
            }
            "strict_mode" => {
                let on = match s.args.first() {
                    None => Some(true),
                    Some(_) => stmt_bool(s, sink),
                };
                if let Some(on) = on {
                    self.strict = Some((on, s.pos()));
                }
            }
            "accept" => {
                no_args(s, sink);
                self.accept = Some(s.pos());
            }
            "native_ipv6" => {
                no_args(s, sink);
                self.native_ipv6 = true;
            }
            "unicast_src_ip" | "vrrp_unicast_bind" => {
                if let Some(a) = stmt_ip(s, sink) {
                    self.unicast_src_ip = Some((a, s.pos()));
                }
            }
            "mcast_src_ip" => {
                if let Some(a) = stmt_ip(s, sink) {
                    self.mcast_src_ip = Some((a, s.pos()));
                }
            }
            "garp_master_delay" => {
                self.garp_master_delay = stmt_u32(s, 0, sink).or(self.garp_master_delay)
            }
            "garp_master_refresh" => {
                self.garp_master_refresh = stmt_u32(s, 0, sink).or(self.garp_master_refresh)
            }
            "garp_master_repeat" => {
                if let Some(v) = stmt_u32(s, 0, sink) {
                    self.garp_master_repeat = Some(at_least_one(s, v, sink));
                }
            }
            "garp_master_refresh_repeat" => {
                if let Some(v) = stmt_u32(s, 0, sink) {
                    self.garp_master_refresh_repeat = Some(at_least_one(s, v, sink));
                }
            }
            "vmac_garp_intvl" | "garp_extra_if" => {
                self.garp_extra_if = vmac::extra_if(s, 0, sink).or(self.garp_extra_if)
            }
            "use_vmac" => {
                if let Some(v) = vmac::read(s, sink) {
                    self.vmac = Some(v);
                }
            }
            "vmac_xmit_base" => {
                no_args(s, sink);
                self.vmac_xmit_base = Some(s.pos());
            }
            "use_vmac_addr" => {
                no_args(s, sink);
                self.vmac_addr = Some(s.pos());
            }
            "v3_checksum_as_v2" => {
                self.v3_checksum_as_v2 = stmt_bool(s, sink).or(self.v3_checksum_as_v2)
            }
            "kernel_rx_buf_size" => {
                self.kernel_rx_buf_size = stmt_u32(s, 1, sink).or(self.kernel_rx_buf_size)
            }
            // The keyword table and the arms above list the same words; a slip is a bug.
            _ => unknown_in(s, "vrrp_instance", sink),
        }
    }

    fn block(&mut self, k: &str, pos: Pos, body: &[Stmt], sink: &mut Sink) {
        if self.extras.read_block(k, body, sink) {
            return;
        }
        match k {
            "authentication" => self.authentication(pos, body, sink),
            "virtual_ipaddress" => {
                for s in body {
                    // One past the limit is enough for `resolve` to say where it was
                    // crossed; comparing the rest with all kept would be quadratic.
                    if self.vips.len() > MAX_VIPS {
                        break;
                    }
                    let Some(v) = vip::read(s, sink) else {
                        continue;
                    };
                    // A link-local address may be on several links (fe80::1 on each).
                    let same = |o: &Vip| o.addr == v.addr && (v.addr.is_ipv4() || o.dev == v.dev);
                    if self.vips.iter().any(|(o, _)| same(o)) {
                        sink.warn(
                            s.pos(),
                            format!("virtual address {} is listed twice; ignored", v.addr),
                        );
                    } else {
                        self.vips.push((v, s.pos()));
                    }
                }
            }
            "unicast_peer" | "vrrp_unicast_peer" => {
                self.unicast_peer_at = Some(pos);
                for s in body {
                    self.peer_line(s, sink);
                }
            }
            _ => self.track.block(k, body, sink),
        }
    }

    fn authentication(&mut self, pos: Pos, body: &[Stmt], sink: &mut Sink) {
        let auth = self.auth.get_or_insert(Auth {
            pos,
            pass_type: None,
            pass: None,
        });
        for s in body {
            if !keywords::check(Ctx::Auth, s, sink) || has_block(s, sink) {
                continue;
            }
            match s.keyword() {
                "auth_type" => {
                    if let Some(w) = arg(s, "an authentication type", sink) {
                        auth.pass_type = Some(match w.text.as_str() {
                            "PASS" => true,
                            "AH" => {
                                sink.error(
                                    w.pos,
                                    "auth_type AH is not supported by vrrpd (only PASS)",
                                );
                                false
                            }
                            other => {
                                sink.error(
                                    w.pos,
                                    format!("unknown auth_type '{other}' (only PASS is supported)"),
                                );
                                false
                            }
                        });
                    }
                }
                "auth_pass" => {
                    if let Some(w) = arg(s, "a password", sink) {
                        let bytes = w.text.as_bytes();
                        if bytes.len() > 8 {
                            sink.warn(
                                w.pos,
                                "auth_pass is longer than 8 bytes; only the first 8 are used (as in keepalived)",
                            );
                        }
                        let mut pass = [0u8; 8];
                        let n = bytes.len().min(8);
                        pass[..n].copy_from_slice(&bytes[..n]);
                        auth.pass = Some(pass);
                    }
                }
                _ => unknown_in(s, "authentication", sink),
            }
        }
    }

    /// `ADDR [min_ttl N] [max_ttl N]`; further addresses on the same line are also peers.
    fn peer_line(&mut self, s: &Stmt, sink: &mut Sink) {
        if has_block(s, sink) {
            return;
        }
        let mut words = std::iter::once(&s.key).chain(s.args.iter());
        while let Some(w) = words.next() {
            if w.text == "min_ttl" || w.text == "max_ttl" {
                sink.warn(
                    w.pos,
                    format!(
                        "'{}' for a unicast peer is not supported by vrrpd; ignored",
                        w.text
                    ),
                );
                words.next();
                continue;
            }
            self.peer(w, sink);
        }
    }

    fn peer(&mut self, w: &Word, sink: &mut Sink) {
        // One past the limit is enough for `resolve` to say where it was crossed; comparing
        // the rest with all kept would be quadratic.
        if self.peers.len() > MAX_PEERS {
            return;
        }
        if let Some(a) = addr(w, "unicast_peer", sink) {
            if self.peers.iter().any(|(p, _)| *p == a) {
                sink.warn(w.pos, format!("unicast peer {a} is listed twice; ignored"));
            } else {
                self.peers.push((a, w.pos));
            }
        }
    }
}
