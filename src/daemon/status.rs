//! What the daemon tells about itself, in keepalived's shapes: `keepalived.json` (SIGRTMIN+2),
//! `keepalived.data` (SIGUSR1) and `keepalived.stats` (SIGUSR2), which LuCI, OpenWrt's rpcd
//! plugin and Prometheus exporters read, and the lines of `vrrpd -s`.
//!
//! Rendering is pure: a [`View`] of each instance and the wall clock in, text out. Writing a file
//! is one atomic replace in `$TMPDIR` (else `/tmp`), as keepalived does.

use core::fmt::{self, Write as _};
use std::fs;
use std::io::{self, Write as _};
use std::net::IpAddr;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config;
use crate::time::Instant;
use crate::vrrp::rx::{Counters, Drop};
use crate::vrrp::{Action, Advert, State};

/// What keepalived counts per instance that the protocol core has no reason to know.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub become_master: u64,
    pub release_master: u64,
    pub pri_zero_rcvd: u64,
    pub pri_zero_sent: u64,
    /// The last advert that passed the checks: its source and priority.
    pub heard: Option<(IpAddr, u8)>,
    /// When the current state was entered: wall clock (for the dumps) and monotonic (for "for").
    pub since: Option<(SystemTime, Instant)>,
}

impl Stats {
    /// Counts what the core decided: transitions and priority-0 adverts.
    pub fn count(&mut self, actions: &[Action], now: Instant) {
        for a in actions {
            match *a {
                Action::Transition { from, to, .. } => {
                    if to == State::Master {
                        self.become_master += 1;
                    }
                    if from == State::Master {
                        self.release_master += 1;
                    }
                    self.since = Some((SystemTime::now(), now));
                }
                Action::SendAdvert { priority: 0 } => self.pri_zero_sent += 1,
                _ => {}
            }
        }
    }

    pub fn heard(&mut self, adv: &Advert) {
        if adv.priority == 0 {
            self.pri_zero_rcvd += 1;
        }
        self.heard = Some((adv.src, adv.priority));
    }
}

/// One instance as the dumps show it.
pub struct View<'a> {
    pub cfg: &'a config::Instance,
    pub state: State,
    pub priority: u8,
    pub master_adver_int_cs: u16,
    pub adverts_rx: u64,
    pub adverts_tx: u64,
    /// The instance's drops plus those of its link that no instance could claim.
    pub drops: Counters,
    pub stats: &'a Stats,
    /// The address our adverts come from.
    pub src: Option<IpAddr>,
    /// The interface's index (0 while it is missing), which keepalived names with ff02::12.
    pub ifindex: u32,
}

impl View<'_> {
    /// keepalived's numbering: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT.
    fn state_num(&self) -> u8 {
        match self.state {
            State::Init => 0,
            State::Backup => 1,
            State::Master => 2,
            State::Fault => 3,
        }
    }

    /// The master as far as we know: ourselves, or the source of the last advert heard.
    fn master(&self) -> Option<IpAddr> {
        match self.state {
            State::Master => self.src,
            State::Backup => self.stats.heard.map(|h| h.0),
            _ => None,
        }
    }

    /// keepalived's master_priority: the priority last heard from another router.
    fn master_priority(&self) -> u8 {
        match self.state {
            State::Backup => self.stats.heard.map_or(0, |h| h.1),
            _ => 0,
        }
    }

    fn vips_set(&self) -> bool {
        self.state == State::Master
    }

    fn last_transition(&self) -> Duration {
        self.stats
            .since
            .and_then(|(t, _)| t.duration_since(UNIX_EPOCH).ok())
            .unwrap_or_default()
    }

    fn in_state(&self, now: Instant) -> Duration {
        self.stats
            .since
            .map_or(Duration::ZERO, |(_, at)| now.saturating_since(at))
    }

    fn drop(&self, d: Drop) -> u64 {
        self.drops.get(d)
    }

    fn drops_total(&self) -> u64 {
        Drop::ALL.iter().map(|&d| self.drop(d)).sum()
    }
}

/// The JSON strings of `vips`, comma-separated.
fn vip_list(o: &mut String, vips: &[config::Vip], cfg: &config::Instance, set: bool) {
    for (j, vip) in vips.iter().enumerate() {
        if j > 0 {
            o.push(',');
        }
        let mut s = String::new();
        vip_text(&mut s, vip, cfg, set);
        let _ = write!(o, "{}", Json(&s));
    }
}

/// `10.99.0.100/24 dev eth0 scope global set`, as keepalived prints a virtual address (an
/// IPv6 one with `preferred_lft forever`). The scope is the one vrrpd adds, where keepalived
/// 2.2.7 says `global` for every IPv6 address, fe80::1 included.
fn vip_text(out: &mut String, v: &config::Vip, cfg: &config::Instance, set: bool) {
    let _ = write!(out, "{}/{}", v.addr, v.prefix_len);
    if let Some(b) = v.brd {
        let _ = write!(out, " brd {b}");
    }
    // The link it lives on; a macvlan as NAME@PARENT, as keepalived 2.2.7 prints it.
    let _ = match cfg.vmac_of(v) {
        Some(m) => write!(out, " dev {}@{}", m.name, m.parent),
        None => write!(out, " dev {}", cfg.link_of(v)),
    };
    let _ = write!(out, " scope {}", Scope(v.scope));
    if v.addr.is_ipv6() {
        out.push_str(" preferred_lft forever");
    }
    if let Some(l) = &v.label {
        let _ = write!(out, " label {l}");
    }
    if set {
        out.push_str(" set");
    }
}

struct Scope(u8);

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => f.write_str("global"),
            200 => f.write_str("site"),
            253 => f.write_str("link"),
            254 => f.write_str("host"),
            255 => f.write_str("nowhere"),
            n => write!(f, "{n}"),
        }
    }
}

/// Epoch seconds with microseconds, as keepalived prints `last_transition`.
struct Epoch(Duration);

impl fmt::Display for Epoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:06}", self.0.as_secs(), self.0.subsec_micros())
    }
}

/// A JSON string, escaped as json-c (keepalived's library) does it, `/` included.
struct Json<'a>(&'a str);

impl fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '/' => f.write_str("\\/")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                '\u{8}' => f.write_str("\\b")?,
                '\u{c}' => f.write_str("\\f")?,
                c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
                c => f.write_char(c)?,
            }
        }
        f.write_char('"')
    }
}

/// keepalived.json: a list with one `{"data": …, "stats": …}` per instance, the fields in the
/// order Debian's keepalived 2.2.7 writes them. vrrpd's own fields come last in each object.
pub fn json(views: &[View<'_>]) -> String {
    let mut o = String::with_capacity(1024 * views.len().max(1));
    o.push('[');
    for (i, v) in views.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        let c = v.cfg;
        let set = v.vips_set();
        let _ = write!(
            o,
            "{{\"data\":{{\"iname\":{},\"dont_track_primary\":0,\"skip_check_adv_addr\":0,\
             \"strict_mode\":{},\"vmac_ifname\":{},\"ifp_ifname\":{},\"master_priority\":{},\
             \"last_transition\":{},\"garp_delay\":{},\"garp_refresh\":{},\"garp_rep\":{},\
             \"garp_refresh_rep\":{},\"garp_lower_prio_delay\":{},\"garp_lower_prio_rep\":{},\
             \"lower_prio_no_advert\":0,\"higher_prio_send_advert\":0,\"vrid\":{},\
             \"base_priority\":{},\"effective_priority\":{},\"vipset\":{set},\
             \"promote_secondaries\":false,\"adver_int\":{},\"master_adver_int\":{},\
             \"accept\":1,\"nopreempt\":{},\"preempt_delay\":{},\"state\":{},\"wantstate\":{},\
             \"version\":{},\"smtp_alert\":false,\"notify_deleted\":false,\"vips\":[",
            Json(&c.name),
            u8::from(c.strict),
            Json(c.own_vmac().map_or("", |m| m.name.as_str())),
            Json(&c.interface),
            v.master_priority(),
            Epoch(v.last_transition()),
            c.garp_master_delay,
            c.garp_master_refresh,
            c.garp_master_repeat,
            c.garp_master_refresh_repeat,
            c.garp_master_delay,
            c.garp_master_repeat,
            c.vrid,
            c.priority,
            v.priority,
            // Whole seconds, as keepalived writes them (exporters parse an integer).
            c.advert_int_cs / 100,
            v.master_adver_int_cs / 100,
            !c.preempt,
            c.preempt_delay.as_secs(),
            v.state_num(),
            v.state_num(),
            c.version,
        );
        vip_list(&mut o, &c.vips, c, set);
        // keepalived writes the excluded addresses only when there are some.
        if !c.extras.addrs.is_empty() {
            o.push_str("],\"evips\":[");
            vip_list(&mut o, &c.extras.addrs, c, set);
        }
        let master = v.master().map(|a| a.to_string()).unwrap_or_default();
        let _ = write!(
            o,
            "],\"auth_type\":{},\"master_ipaddr\":{},\"advert_int_cs\":{}}},",
            u8::from(c.auth_pass.is_some() && c.version == 2),
            Json(&master),
            c.advert_int_cs,
        );
        // What the socket filter drops (wrong password, other VRID, cut short) is counted from
        // its 1-in-`bpf::SAMPLE` sample: auth_failure, vrid_err and part of packet_len_err
        // count sampled packets, not an estimate of all (README, "Floods").
        let _ = write!(
            o,
            "\"stats\":{{\"advert_rcvd\":{},\"advert_sent\":{},\"become_master\":{},\
             \"release_master\":{},\"packet_len_err\":{},\"advert_interval_err\":{},\
             \"ip_ttl_err\":{},\"invalid_type_rcvd\":{},\"addr_list_err\":{},\
             \"invalid_authtype\":0,\"authtype_mismatch\":{},\"auth_failure\":{},\
             \"pri_zero_rcvd\":{},\"pri_zero_sent\":{},\"checksum_err\":{},\"version_err\":{},\
             \"unicast_peer_err\":{},\"vrid_err\":{}}}}}",
            v.adverts_rx,
            v.adverts_tx,
            v.stats.become_master,
            v.stats.release_master,
            v.drop(Drop::Len),
            v.drop(Drop::Interval),
            v.drop(Drop::Ttl),
            v.drop(Drop::Type),
            v.drop(Drop::Addrs),
            v.drop(Drop::AuthType),
            v.drop(Drop::Auth),
            v.stats.pri_zero_rcvd,
            v.stats.pri_zero_sent,
            v.drop(Drop::Checksum),
            v.drop(Drop::Version),
            v.drop(Drop::Peer),
            v.drop(Drop::Vrid),
        );
    }
    o.push(']');
    o
}

/// keepalived.stats: keepalived's text layout, one block per instance.
pub fn stats(views: &[View<'_>]) -> String {
    let mut o = String::new();
    for v in views {
        let _ = write!(
            o,
            "VRRP Instance: {}\n  Advertisements:\n    Received: {}\n    Sent: {}\n  \
             Became master: {}\n  Released master: {}\n  Packet Errors:\n    Length: {}\n    \
             TTL: {}\n    Invalid Type: {}\n    Advertisement Interval: {}\n    \
             Address List: {}\n  Authentication Errors:\n    Invalid Type: 0\n    \
             Type Mismatch: {}\n    Failure: {}\n  Priority Zero:\n    Received: {}\n    \
             Sent: {}\n",
            v.cfg.name,
            v.adverts_rx,
            v.adverts_tx,
            v.stats.become_master,
            v.stats.release_master,
            v.drop(Drop::Len),
            v.drop(Drop::Ttl),
            v.drop(Drop::Type),
            v.drop(Drop::Interval),
            v.drop(Drop::Addrs),
            v.drop(Drop::AuthType),
            v.drop(Drop::Auth),
            v.stats.pri_zero_rcvd,
            v.stats.pri_zero_sent,
        );
    }
    o
}

/// keepalived.data: the "VRRP Topology" part of keepalived's dump, for what vrrpd has.
pub fn data(global: &config::Global, views: &[View<'_>]) -> String {
    let mut o = String::from("------< Global definitions >------\n");
    if let Some(id) = &global.router_id {
        let _ = writeln!(o, " Router ID = {id}");
    }
    let _ = writeln!(
        o,
        " VRRP IPv4 mcast group = 224.0.0.18\n VRRP IPv6 mcast group = ff02::12\n \
         Gratuitous ARP delay = {}\n \
         Gratuitous ARP repeat = {}\n Gratuitous ARP refresh timer = {}\n \
         Gratuitous ARP refresh repeat = {}\n VRRP default protocol version = {}",
        global.garp_master_delay,
        global.garp_master_repeat,
        global.garp_master_refresh,
        global.garp_master_refresh_repeat,
        global.vrrp_version,
    );
    o.push_str("------< VRRP Topology >------\n");
    for v in views {
        let c = v.cfg;
        let t = v.last_transition();
        let v6 = c.family == crate::vrrp::Family::V6;
        let _ = write!(
            o,
            " VRRP Instance = {}\n   VRRP Version = {}\n{}   State = {}\n   Flags: none\n   \
             Wantstate = {}\n   Last transition = {} ({})\n   Interface = {}\n",
            c.name,
            c.version,
            if v6 { "   Using Native IPv6\n" } else { "" },
            v.state,
            v.state,
            Epoch(t),
            UtcTime(t),
            c.interface,
        );
        if let Some(src) = v.src {
            let _ = writeln!(o, "   Using src_ip = {src}");
        }
        if c.uses_unicast() {
            let _ = writeln!(o, "   Unicast Peer = {}", List(&c.unicast_peers));
        } else {
            if v6 {
                let _ = writeln!(o, "   Multicast address ff02::12, ifindex {}", v.ifindex);
            } else {
                o.push_str("   Multicast address 224.0.0.18\n");
            }
        }
        let _ = write!(
            o,
            "   Gratuitous ARP delay = {}\n   Gratuitous ARP repeat = {}\n   \
             Gratuitous ARP refresh = {}\n   Gratuitous ARP refresh repeat = {}\n   \
             Virtual Router ID = {}\n   Priority = {}\n   Effective priority = {}\n   \
             Advert interval = {}\n   Accept = enabled\n   Preempt = {}\n",
            c.garp_master_delay,
            c.garp_master_repeat,
            c.garp_master_refresh,
            c.garp_master_refresh_repeat,
            c.vrid,
            c.priority,
            v.priority,
            Interval(c.advert_int_cs),
            if c.preempt { "enabled" } else { "disabled" },
        );
        if !c.preempt_delay.is_zero() {
            let _ = writeln!(o, "   Preempt delay = {} secs", c.preempt_delay.as_secs());
        }
        let auth = if c.auth_pass.is_some() && c.version == 2 {
            "SIMPLE_PASSWORD"
        } else {
            "none"
        };
        let _ = writeln!(o, "   Authentication type = {auth}");
        if let Some(m) = v.master() {
            let _ = writeln!(
                o,
                "   Master router = {m}\n   Master priority = {}",
                match v.state {
                    State::Master => v.priority,
                    _ => v.master_priority(),
                }
            );
        }
        let _ = writeln!(o, "   Virtual IP ({}):", c.vips.len());
        for vip in &c.vips {
            o.push_str("     ");
            vip_text(&mut o, vip, c, v.vips_set());
            o.push('\n');
        }
    }
    o
}

/// `vrrpd -s`: one line per instance, whitespace-separated words a shell `read` can split:
/// `VI_1 eth0 vrid 51 MASTER prio 150 master 10.99.0.1 for 83s adverts 5/120 drops 0`.
pub fn lines(views: &[View<'_>], now: Instant) -> String {
    let mut o = String::new();
    for v in views {
        let master = v
            .master()
            .map_or_else(|| "-".to_string(), |a| a.to_string());
        let _ = writeln!(
            o,
            "{} {} vrid {} {} prio {} master {master} for {}s adverts {}/{} drops {}",
            v.cfg.name,
            v.cfg.interface,
            v.cfg.vrid,
            v.state,
            v.priority,
            v.in_state(now).as_secs(),
            v.adverts_rx,
            v.adverts_tx,
            v.drops_total(),
        );
    }
    o
}

struct List<'a>(&'a [IpAddr]);

impl fmt::Display for List<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

/// keepalived's "1 sec" or "100 milli-sec".
struct Interval(u16);

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 % 100 == 0 {
            write!(f, "{} sec", self.0 / 100)
        } else {
            write!(f, "{} milli-sec", u32::from(self.0) * 10)
        }
    }
}

/// `Tue Dec  1 10:12:08.464814 2026` as keepalived prints a time, but in UTC: local time would
/// link libc's time-zone code (several KiB on a 400 KiB budget) for one line of keepalived.data.
struct UtcTime(Duration);

impl fmt::Display for UtcTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let secs = self.0.as_secs();
        let (days, rem) = (secs / 86_400, secs % 86_400);
        // Civil date from days since 1970-01-01 (Howard Hinnant's days_from_civil, inverted).
        let z = days + 719_468;
        let era = z / 146_097;
        let doe = z % 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + u64::from(month <= 2);
        write!(
            f,
            "{} {} {day:2} {:02}:{:02}:{:02}.{:06} {year} UTC",
            DAYS[(days % 7) as usize],
            MONTHS[(month - 1) as usize],
            rem / 3600,
            rem % 3600 / 60,
            rem % 60,
            self.0.subsec_micros(),
        )
    }
}

/// The directory keepalived writes its dumps to: `$TMPDIR`, else `/tmp`.
pub fn dump_dir() -> PathBuf {
    match std::env::var_os("TMPDIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from("/tmp"),
    }
}

/// Replaces `dir/name` with `body` atomically: a reader sees the old file or the new one, never
/// a part. The temporary file is created fresh (O_EXCL, O_NOFOLLOW, mode 0600), so a planted
/// symlink or FIFO can neither redirect the write nor block it; the dumps are a few KiB on a
/// tmpfs, which is why writing them in the loop is fine.
pub fn write_atomic(name: &str, body: &str) -> io::Result<PathBuf> {
    let dir = dump_dir();
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.{}", std::process::id()));
    let open = || {
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp)
    };
    let mut f = match open() {
        Ok(f) => f,
        // Left over from a write that failed half-way (same PID after a restart).
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            fs::remove_file(&tmp)?;
            open()?
        }
        Err(e) => return Err(e),
    };
    let res = f
        .write_all(body.as_bytes())
        .and_then(|()| f.set_permissions(fs::Permissions::from_mode(0o600)))
        .and_then(|()| fs::rename(&tmp, &path));
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res.map(|()| path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A view of each instance of `c`, in `state` at priority 100, on ifindex 3.
    fn views<'a>(c: &'a config::Config, state: State, stats: &'a Stats) -> Vec<View<'a>> {
        c.instances
            .iter()
            .map(|cfg| View {
                cfg,
                state,
                priority: 100,
                master_adver_int_cs: 100,
                adverts_rx: 0,
                adverts_tx: 0,
                drops: Counters::default(),
                stats,
                src: None,
                ifindex: 3,
            })
            .collect()
    }

    #[test]
    fn json_strings_escape_like_json_c() {
        assert_eq!(
            Json("a/b\"c\\\n\u{1}").to_string(),
            r#""a\/b\"c\\\n\u0001""#
        );
    }

    #[test]
    fn epoch_has_microseconds() {
        let d = Duration::new(1_796_119_928, 464_814_000);
        assert_eq!(Epoch(d).to_string(), "1796119928.464814");
    }

    #[test]
    fn utc_time_like_ctime() {
        let d = Duration::new(1_796_119_928, 464_814_000);
        assert_eq!(
            UtcTime(d).to_string(),
            "Tue Dec  1 10:12:08.464814 2026 UTC"
        );
        assert_eq!(
            UtcTime(Duration::ZERO).to_string(),
            "Thu Jan  1 00:00:00.000000 1970 UTC"
        );
        // 2024-02-29 12:00:00, a leap day.
        let leap = Duration::from_secs(1_709_208_000);
        assert_eq!(
            UtcTime(leap).to_string(),
            "Thu Feb 29 12:00:00.000000 2024 UTC"
        );
    }

    /// An IPv6 instance's topology names its family and ff02::12, as keepalived 2.2.7's does.
    #[test]
    fn json_lists_excluded_addresses_and_ipv6_lifetimes_as_keepalived() {
        // keepalived 2.2.7 wrote, for this instance: "vips":["fd99:70::1/64 dev eth0 scope
        // global preferred_lft forever set"],"evips":["10.99.70.101/24 dev eth0 scope global
        // set"], and no "evips" at all for an instance without excluded addresses.
        let text = "vrrp_instance VI_6 {\n interface eth0\n virtual_router_id 52\n \
                    virtual_ipaddress {\n fd99:70::1/64\n }\n virtual_ipaddress_excluded {\n \
                    10.99.70.101/24\n }\n}\n\
                    vrrp_instance VI_4 {\n interface eth0\n virtual_router_id 51\n \
                    virtual_ipaddress {\n 10.0.0.1/24\n }\n}\n";
        let c = config::load_str(text, "t.conf")
            .config
            .expect("a valid config");
        let stats = Stats::default();
        let j = json(&views(&c, State::Master, &stats));
        let want = r#""vips":["fd99:70::1\/64 dev eth0 scope global preferred_lft forever set"],"evips":["10.99.70.101\/24 dev eth0 scope global set"],"auth_type""#;
        assert!(j.contains(want), "{j}");
        assert_eq!(j.matches("\"evips\"").count(), 1, "{j}");
    }

    #[test]
    fn data_of_an_ipv6_instance_names_ff02_12() {
        let text = "vrrp_instance VI_6 {\n interface eth0\n virtual_router_id 51\n \
                    virtual_ipaddress {\n fe80::1/64\n }\n}\n\
                    vrrp_instance VI_4 {\n interface eth0\n virtual_router_id 51\n \
                    virtual_ipaddress {\n 10.0.0.1/24\n }\n}\n";
        let c = config::load_str(text, "t.conf")
            .config
            .expect("a valid config");
        let stats = Stats::default();
        let d = data(&c.global, &views(&c, State::Backup, &stats));
        assert!(
            d.contains(" VRRP IPv4 mcast group = 224.0.0.18\n VRRP IPv6 mcast group = ff02::12\n"),
            "{d}"
        );
        let (six, four) = d.split_at(d.find(" VRRP Instance = VI_4").expect("VI_4"));
        assert!(
            six.contains("   VRRP Version = 3\n   Using Native IPv6\n"),
            "{d}"
        );
        assert!(
            six.contains("   Multicast address ff02::12, ifindex 3\n"),
            "{d}"
        );
        assert!(!four.contains("Native IPv6"), "{d}");
        assert!(four.contains("   Multicast address 224.0.0.18\n"), "{d}");
    }

    #[test]
    fn interval_words() {
        assert_eq!(Interval(100).to_string(), "1 sec");
        assert_eq!(Interval(10).to_string(), "100 milli-sec");
    }
}
