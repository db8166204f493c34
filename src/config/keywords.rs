//! keepalived's keywords (2.2–2.4), one entry each: which block it belongs to, whether it opens
//! a block, and whether vrrpd implements it — and if not, what a user loses.
//!
//! This one table tells the three cases apart: a keyword vrrpd reads, a real keepalived keyword
//! it ignores (a warning saying what is lost), and a word that is no keyword at all (an error
//! with a suggestion — most likely a typo). Adding a keyword is adding one line; implementing
//! one is deleting its `.lost(…)` and adding the reader's match arm.

use std::sync::OnceLock;

use super::diag::Sink;
use super::tree::Stmt;

/// The block a keyword belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ctx {
    Top,
    Global,
    Instance,
    Auth,
    Script,
    TrackFile,
    TrackProcess,
    SyncGroup,
}

impl Ctx {
    pub fn name(self) -> &'static str {
        match self {
            Ctx::Top => "the top level",
            Ctx::Global => "global_defs",
            Ctx::Instance => "vrrp_instance",
            Ctx::Auth => "authentication",
            Ctx::Script => "vrrp_script",
            Ctx::TrackFile => "vrrp_track_file",
            Ctx::TrackProcess => "vrrp_track_process",
            Ctx::SyncGroup => "vrrp_sync_group",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `keyword [words…]` on one line.
    Value,
    /// `keyword [words…] { … }`.
    Block,
    /// A block, or one value on the line: keepalived 1.x's `vrrp_unicast_peer ADDR`.
    BlockOrValue,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Keyword {
    pub ctx: Ctx,
    pub name: &'static str,
    pub shape: Shape,
    /// None: vrrpd implements it. Some(what is lost when vrrpd ignores it).
    pub lost: Option<&'static str>,
}

const fn value(ctx: Ctx, name: &'static str) -> Keyword {
    Keyword {
        ctx,
        name,
        shape: Shape::Value,
        lost: None,
    }
}

const fn block(ctx: Ctx, name: &'static str) -> Keyword {
    Keyword {
        shape: Shape::Block,
        ..value(ctx, name)
    }
}

impl Keyword {
    /// A keepalived keyword vrrpd does not implement; `what` completes "ignored: …".
    const fn lost(self, what: &'static str) -> Keyword {
        Keyword {
            lost: Some(what),
            ..self
        }
    }
}

// What is lost, for families of keywords that share the reason.
const LVS: &str = "vrrpd does VRRP only, no LVS load balancing or health checking of real servers";
const BFD: &str = "vrrpd has no BFD";
const EMAIL: &str = "vrrpd sends no e-mail; use a notify script";
const SNMP: &str = "vrrpd has no SNMP or D-Bus interface";
const FIFO: &str = "vrrpd has no notify FIFO; use notify scripts";
const OTHER_PROCESS: &str = "vrrpd is a single process; it has no checker or BFD process to tune";
const TRACK_GROUP: &str = "deleting a static address, route or rule moves no instance to backup; vrrpd restores it instead";
const NETNS: &str = "vrrpd does not switch network namespaces; start it inside one (ip netns exec)";
const FIREWALL: &str =
    "vrrpd installs no firewall rules; traffic to the VIPs is accepted, as with 'accept'";
const NETLINK_BUFS: &str = "vrrpd sizes its netlink buffers itself and resyncs on overflow";
const RELOAD: &str = "vrrpd reloads on SIGHUP only";
const STARTUP: &str = "vrrpd runs no start-up or shutdown scripts; use the init system";
const PROCESS_BUFS: &str =
    "vrrpd sizes the process connector's buffer itself (1 MiB) and rescans /proc on overflow";
const LOWER_PRIO: &str = "vrrpd answers a lower-priority master with one advert and a burst of \
                          gratuitous ARPs or unsolicited NAs, at most once per interval (no burst \
                          in strict mode)";
const NOTIFY_EXTRA: &str = "vrrpd runs notify scripts on state changes only";

use Ctx::*;

/// Every keyword, by block. Keep one entry per line so that branches merge cleanly.
#[rustfmt::skip]
// `named` indexes the table with u16.
const _: () = assert!(TABLE.len() <= u16::MAX as usize);

pub(crate) const TABLE: &[Keyword] = &[
    // ---- top level ----
    block(Top, "global_defs"),
    block(Top, "vrrp_instance"),
    block(Top, "vrrp_script"),
    block(Top, "vrrp_sync_group"),
    block(Top, "vrrp_track_file"),
    block(Top, "track_file"),
    block(Top, "bfd_instance").lost(BFD),
    block(Top, "garp_group").lost("vrrpd spaces gratuitous ARPs per instance (vrrp_garp_interval), not per interface group"),
    block(Top, "linkbeat_interfaces").lost("vrrpd follows netlink link events on every interface"),
    block(Top, "static_ipaddress"),
    block(Top, "static_routes"),
    block(Top, "static_rules"),
    block(Top, "track_group").lost(TRACK_GROUP),
    block(Top, "virtual_server").lost(LVS),
    block(Top, "virtual_server_group").lost(LVS),
    block(Top, "vrrp_track_process"),
    block(Top, "interface_up_down_delays").lost("vrrpd acts on link changes at once"),
    value(Top, "child_wait_time").lost(OTHER_PROCESS),
    value(Top, "instance").lost("vrrpd runs one instance per config file; use separate -f and -p"),
    value(Top, "namespace_with_ipsets").lost(NETNS),
    value(Top, "net_namespace").lost(NETNS),
    value(Top, "net_namespace_ipvs").lost(NETNS),
    value(Top, "use_pid_dir").lost("vrrpd writes the one pid file given by -p"),
    value(Top, "linkbeat_use_polling").lost("vrrpd follows netlink link events on every interface"),
    // ---- global_defs ----
    value(Global, "router_id"),
    value(Global, "vrrp_version"),
    value(Global, "vrrp_garp_master_delay"),
    value(Global, "vrrp_garp_master_repeat"),
    value(Global, "vrrp_garp_master_refresh"),
    value(Global, "vrrp_garp_master_refresh_repeat"),
    value(Global, "vrrp_garp_interval"),
    value(Global, "vrrp_min_garp"),
    value(Global, "script_user"),
    value(Global, "enable_script_security"),
    value(Global, "v3_checksum_as_v2"),
    value(Global, "max_script_children"),
    value(Global, "track_process_scan_interval"),
    value(Global, "vrrp_priority"),
    value(Global, "vrrp_rt_priority"),
    value(Global, "vrrp_rlimit_rttime"),
    value(Global, "vrrp_no_swap"),
    value(Global, "vrrp_strict"),
    value(Global, "log_unknown_vrids"),
    value(Global, "bfd_cpu_affinity").lost(OTHER_PROCESS),
    value(Global, "bfd_no_swap").lost(OTHER_PROCESS),
    value(Global, "bfd_priority").lost(OTHER_PROCESS),
    value(Global, "bfd_process_name").lost(OTHER_PROCESS),
    value(Global, "bfd_rlimit_rttime").lost(OTHER_PROCESS),
    value(Global, "bfd_rt_priority").lost(OTHER_PROCESS),
    value(Global, "checker_cpu_affinity").lost(OTHER_PROCESS),
    value(Global, "checker_log_all_failures").lost(OTHER_PROCESS),
    value(Global, "checker_no_swap").lost(OTHER_PROCESS),
    value(Global, "checker_priority").lost(OTHER_PROCESS),
    value(Global, "checker_process_name").lost(OTHER_PROCESS),
    value(Global, "checker_rlimit_rttime").lost(OTHER_PROCESS),
    value(Global, "checker_rt_priority").lost(OTHER_PROCESS),
    value(Global, "child_wait_time").lost(OTHER_PROCESS),
    value(Global, "config_save_dir").lost("vrrpd saves no copies of its config"),
    value(Global, "data_use_instance").lost("vrrpd writes no data files"),
    value(Global, "dbus_service_name").lost(SNMP),
    value(Global, "default_interface").lost("every vrrp_instance needs its own 'interface'"),
    value(Global, "disable_local_igmp").lost("the kernel's IGMP reports are left as they are"),
    value(Global, "dynamic_interfaces").lost("vrrpd always waits in FAULT for a missing interface"),
    value(Global, "enable_dbus").lost(SNMP),
    value(Global, "enable_snmp_checker").lost(SNMP),
    value(Global, "enable_snmp_rfc").lost(SNMP),
    value(Global, "enable_snmp_rfcv2").lost(SNMP),
    value(Global, "enable_snmp_rfcv3").lost(SNMP),
    value(Global, "enable_snmp_vrrp").lost(SNMP),
    value(Global, "enable_traps").lost(SNMP),
    value(Global, "fifo_write_vrrp_states_on_reload").lost(FIFO),
    value(Global, "include_check").lost("vrrpd warns when an include matches nothing and errs when a file cannot be read"),
    value(Global, "instance").lost("vrrpd runs one instance per config file; use separate -f and -p"),
    value(Global, "json_version").lost("keepalived.json (SIGRTMIN+2) has keepalived 2.2's layout"),
    value(Global, "linkbeat_use_polling").lost("vrrpd follows netlink link events on every interface"),
    value(Global, "lvs_flush").lost(LVS),
    value(Global, "lvs_flush_on_stop").lost(LVS),
    value(Global, "lvs_id").lost(LVS),
    value(Global, "lvs_netlink_cmd_rcv_bufs").lost(LVS),
    value(Global, "lvs_netlink_cmd_rcv_bufs_force").lost(LVS),
    value(Global, "lvs_netlink_monitor_rcv_bufs").lost(LVS),
    value(Global, "lvs_netlink_monitor_rcv_bufs_force").lost(LVS),
    value(Global, "lvs_notify_fifo").lost(LVS),
    value(Global, "lvs_notify_fifo_script").lost(LVS),
    value(Global, "lvs_sync_daemon").lost(LVS),
    value(Global, "lvs_timeouts").lost(LVS),
    value(Global, "max_auto_priority").lost("vrrpd never raises its own scheduling priority; use vrrp_priority or vrrp_rt_priority"),
    value(Global, "min_auto_priority_delay").lost("vrrpd never raises its own scheduling priority; use vrrp_priority or vrrp_rt_priority"),
    value(Global, "namespace_with_ipsets").lost(NETNS),
    value(Global, "net_namespace").lost(NETNS),
    value(Global, "net_namespace_ipvs").lost(NETNS),
    value(Global, "nftables").lost(FIREWALL),
    value(Global, "nftables_counters").lost(FIREWALL),
    value(Global, "nftables_ifindex").lost(FIREWALL),
    value(Global, "nftables_ipvs").lost(LVS),
    value(Global, "nftables_ipvs_priority").lost(LVS),
    value(Global, "nftables_ipvs_start_fwmark").lost(LVS),
    value(Global, "nftables_priority").lost(FIREWALL),
    value(Global, "no_checker_emails").lost(EMAIL),
    value(Global, "no_email_faults").lost(EMAIL),
    block(Global, "notification_email").lost(EMAIL),
    value(Global, "notification_email_from").lost(EMAIL),
    value(Global, "notify_fifo").lost(FIFO),
    value(Global, "notify_fifo_script").lost(FIFO),
    value(Global, "process_monitor_rcv_bufs").lost(PROCESS_BUFS),
    value(Global, "process_monitor_rcv_bufs_force").lost(PROCESS_BUFS),
    value(Global, "process_name").lost("the process is named vrrpd"),
    value(Global, "process_names").lost("the process is named vrrpd"),
    value(Global, "random_seed").lost("vrrpd uses no random numbers"),
    value(Global, "reload_check_config").lost("vrrpd always checks a config before applying it on SIGHUP, and keeps the old one if it is broken"),
    value(Global, "reload_file").lost(RELOAD),
    value(Global, "reload_repeat").lost(RELOAD),
    value(Global, "reload_time_file").lost(RELOAD),
    value(Global, "rs_init_notifies").lost(LVS),
    value(Global, "shutdown_script").lost(STARTUP),
    value(Global, "shutdown_script_timeout").lost(STARTUP),
    value(Global, "smtp_alert").lost(EMAIL),
    value(Global, "smtp_alert_checker").lost(EMAIL),
    value(Global, "smtp_alert_vrrp").lost(EMAIL),
    value(Global, "smtp_connect_timeout").lost(EMAIL),
    value(Global, "smtp_helo_name").lost(EMAIL),
    value(Global, "smtp_server").lost(EMAIL),
    value(Global, "snmp_socket").lost(SNMP),
    value(Global, "startup_script").lost(STARTUP),
    value(Global, "startup_script_timeout").lost(STARTUP),
    value(Global, "tmp_config_directory").lost("vrrpd writes no temporary config files"),
    value(Global, "umask").lost("vrrpd keeps the umask it was started with"),
    value(Global, "use_pid_dir").lost("vrrpd writes the one pid file given by -p"),
    value(Global, "vmac_addr_prefix"),
    value(Global, "vmac_prefix"),
    value(Global, "vrrp_check_unicast_src").lost("vrrpd accepts unicast adverts only from the listed peers, whatever the source check"),
    value(Global, "vrrp_cpu_affinity").lost("vrrpd runs on any CPU; use taskset"),
    value(Global, "vrrp_down_timer_adverts").lost("a backup waits the RFC's 3 advert intervals plus skew"),
    value(Global, "vrrp_garp_extra_if"),
    value(Global, "vrrp_vmac_garp_intvl"),
    value(Global, "vrrp_garp_lower_prio_delay").lost(LOWER_PRIO),
    value(Global, "vrrp_garp_lower_prio_repeat").lost(LOWER_PRIO),
    value(Global, "vrrp_gna_interval"),
    value(Global, "vrrp_higher_prio_send_advert").lost("a master that hears a higher priority becomes backup without a last advert"),
    value(Global, "vrrp_ipsets").lost(FIREWALL),
    value(Global, "vrrp_iptables").lost(FIREWALL),
    value(Global, "vrrp_lower_prio_no_advert").lost(LOWER_PRIO),
    value(Global, "vrrp_mcast_group4").lost("adverts go to 224.0.0.18, the RFC's group"),
    value(Global, "vrrp_mcast_group6").lost("adverts go to ff02::12, the RFC's group"),
    value(Global, "vrrp_netlink_cmd_rcv_bufs").lost(NETLINK_BUFS),
    value(Global, "vrrp_netlink_cmd_rcv_bufs_force").lost(NETLINK_BUFS),
    value(Global, "vrrp_netlink_monitor_rcv_bufs").lost(NETLINK_BUFS),
    value(Global, "vrrp_netlink_monitor_rcv_bufs_force").lost(NETLINK_BUFS),
    value(Global, "vrrp_notify_fifo").lost(FIFO),
    value(Global, "vrrp_notify_fifo_script").lost(FIFO),
    value(Global, "vrrp_notify_priority_changes").lost(FIFO),
    value(Global, "vrrp_process_name").lost("the process is named vrrpd"),
    value(Global, "vrrp_rx_bufs_multiplier").lost("vrrpd sizes its receive buffers itself"),
    value(Global, "vrrp_rx_bufs_policy").lost("vrrpd sizes its receive buffers itself"),
    value(Global, "vrrp_skip_check_adv_addr").lost("vrrpd checks every advert's address list; the check is cheap"),
    value(Global, "vrrp_startup_delay").lost("instances start at once"),
    value(Global, "vrrp_delay_after_boot").lost("instances start at once"),
    value(Global, "use_symlink_paths").lost("script paths are used as written"),
    value(Global, "set_supplementary_groups").lost("scripts run with the supplementary groups vrrpd has"),
    value(Global, "state_file_location").lost("keepalived.data (SIGUSR1) goes to $TMPDIR, else /tmp"),
    value(Global, "stats_file_location").lost("keepalived.stats (SIGUSR2) goes to $TMPDIR, else /tmp"),
    value(Global, "json_file_location").lost("keepalived.json (SIGRTMIN+2) goes to $TMPDIR, else /tmp"),
    value(Global, "iproute_usr_dir").lost("vrrpd reads table and protocol names from /etc/iproute2, /usr/share/iproute2 and /usr/lib/iproute2 only"),
    value(Global, "iproute_etc_dir").lost("vrrpd reads table and protocol names from /etc/iproute2, /usr/share/iproute2 and /usr/lib/iproute2 only"),
    value(Global, "snmp_vs_stats_update_interval").lost(SNMP),
    value(Global, "snmp_rs_stats_update_interval").lost(SNMP),
    value(Global, "dbus_no_interface_name").lost(SNMP),
    // ---- vrrp_instance ----
    value(Instance, "state"),
    value(Instance, "interface"),
    value(Instance, "virtual_router_id"),
    value(Instance, "priority"),
    value(Instance, "advert_int"),
    value(Instance, "version"),
    value(Instance, "nopreempt"),
    value(Instance, "preempt"),
    value(Instance, "preempt_delay"),
    block(Instance, "authentication"),
    block(Instance, "auth_hmac").lost("vrrpd has no HMAC authentication; adverts are accepted by the RFC checks (and PASS for VRRPv2)"),
    block(Instance, "virtual_ipaddress"),
    value(Instance, "no_virtual_ipaddress"),
    value(Instance, "unicast_src_ip"),
    value(Instance, "vrrp_unicast_bind"),
    block(Instance, "unicast_peer"),
    Keyword { shape: Shape::BlockOrValue, ..value(Instance, "vrrp_unicast_peer") },
    value(Instance, "mcast_src_ip"),
    value(Instance, "garp_master_delay"),
    value(Instance, "garp_master_repeat"),
    value(Instance, "garp_master_refresh"),
    value(Instance, "garp_master_refresh_repeat"),
    value(Instance, "v3_checksum_as_v2"),
    value(Instance, "kernel_rx_buf_size"),
    value(Instance, "notify_master"),
    value(Instance, "notify_backup"),
    value(Instance, "notify_fault"),
    value(Instance, "notify_stop"),
    value(Instance, "notify"),
    block(Instance, "track_interface"),
    block(Instance, "track_script"),
    block(Instance, "track_file"),
    value(Instance, "strict_mode"),
    // vrrpd never filters traffic to the VIPs, which is what 'accept' asks for.
    value(Instance, "accept"),
    value(Instance, "no_accept").lost(FIREWALL),
    value(Instance, "check_unicast_src").lost("vrrpd accepts unicast adverts only from the listed peers, whatever the source check"),
    value(Instance, "debug").lost("use -D for debug logging"),
    value(Instance, "dont_track_primary").lost("the instance always goes to FAULT when its interface is down"),
    value(Instance, "down_timer_adverts").lost("a backup waits the RFC's 3 advert intervals plus skew"),
    value(Instance, "garp_extra_if"),
    value(Instance, "garp_lower_prio_delay").lost(LOWER_PRIO),
    value(Instance, "garp_lower_prio_repeat").lost(LOWER_PRIO),
    value(Instance, "higher_prio_send_advert").lost("a master that hears a higher priority becomes backup without a last advert"),
    value(Instance, "linkbeat_use_polling").lost("vrrpd follows netlink link events"),
    value(Instance, "lower_prio_no_advert").lost(LOWER_PRIO),
    value(Instance, "lvs_sync_daemon_interface").lost(LVS),
    value(Instance, "mcast_dst_ip").lost("adverts go to the RFC's group, 224.0.0.18 or ff02::12"),
    value(Instance, "native_ipv6"),
    value(Instance, "notify_deleted").lost(NOTIFY_EXTRA),
    value(Instance, "notify_master_rx_lower_pri").lost(NOTIFY_EXTRA),
    value(Instance, "notify_priority_changes").lost(FIFO),
    value(Instance, "old_unicast_checksum").lost("unicast adverts carry the RFC checksum"),
    value(Instance, "promote_secondaries").lost("the kernel's promote_secondaries setting is left as it is"),
    value(Instance, "skip_check_adv_addr").lost("vrrpd checks every advert's address list; the check is cheap"),
    value(Instance, "smtp_alert").lost(EMAIL),
    value(Instance, "timer_expired_backup").lost(NOTIFY_EXTRA),
    block(Instance, "track_bfd").lost(BFD),
    block(Instance, "track_process"),
    value(Instance, "track_src_ip").lost("a vanished unicast_src_ip is not tracked"),
    value(Instance, "unicast_fault_no_peer").lost("an instance without unicast peers uses multicast"),
    value(Instance, "unicast_ttl").lost("unicast adverts are sent with TTL (IPv6: hop limit) 255"),
    value(Instance, "use_ipvlan").lost("vrrpd makes no ipvlan; use_vmac gives the VIPs a macvlan with the virtual MAC"),
    value(Instance, "use_vmac"),
    value(Instance, "use_vmac_addr"),
    block(Instance, "virtual_ipaddress_excluded"),
    block(Instance, "virtual_routes"),
    block(Instance, "virtual_rules"),
    value(Instance, "vmac_garp_intvl"),
    value(Instance, "vmac_xmit_base"),
    value(Instance, "vrf").lost("vrrpd does not bind to a VRF"),
    // ---- authentication ----
    value(Auth, "auth_type"),
    value(Auth, "auth_pass"),
    // ---- vrrp_script ----
    value(Script, "script"),
    value(Script, "interval"),
    value(Script, "timeout"),
    value(Script, "weight"),
    value(Script, "rise"),
    value(Script, "fall"),
    value(Script, "user"),
    value(Script, "init_fail").lost("a script starts as up until it first fails"),
    // ---- vrrp_track_file ----
    value(TrackFile, "file"),
    value(TrackFile, "weight"),
    value(TrackFile, "init_file").lost("the file must exist; vrrpd does not create it"),
    // ---- vrrp_track_process ----
    value(TrackProcess, "process"),
    value(TrackProcess, "param_match"),
    value(TrackProcess, "weight"),
    value(TrackProcess, "quorum"),
    value(TrackProcess, "quorum_max"),
    value(TrackProcess, "delay"),
    value(TrackProcess, "fork_delay"),
    value(TrackProcess, "terminate_delay"),
    value(TrackProcess, "full_command"),
    // ---- vrrp_sync_group ----
    block(SyncGroup, "group"),
    value(SyncGroup, "notify_master"),
    value(SyncGroup, "notify_backup"),
    value(SyncGroup, "notify_fault"),
    value(SyncGroup, "notify_stop"),
    value(SyncGroup, "notify"),
    block(SyncGroup, "track_interface"),
    block(SyncGroup, "track_script"),
    block(SyncGroup, "track_file"),
    // keepalived 2 reads the deprecated global_tracking as sync_group_tracking_weight.
    value(SyncGroup, "global_tracking"),
    value(SyncGroup, "sync_group_tracking_weight"),
    block(SyncGroup, "track_bfd").lost(BFD),
    block(SyncGroup, "track_process"),
    value(SyncGroup, "notify_deleted").lost(NOTIFY_EXTRA),
    value(SyncGroup, "notify_priority_changes").lost(FIFO),
    value(SyncGroup, "smtp_alert").lost(EMAIL),
];

/// Every entry named `word` (one per block it belongs to). Each line of a config asks this two
/// or three times, so the table is searched through an index sorted by name, built on first
/// use: a linear scan of the whole table per line was half the time of reading 255 instances.
fn named(word: &str) -> impl Iterator<Item = &'static Keyword> + Clone {
    static BY_NAME: OnceLock<Box<[u16]>> = OnceLock::new();
    let index = BY_NAME.get_or_init(|| {
        let mut index: Box<[u16]> = (0..TABLE.len() as u16).collect();
        index.sort_by_key(|&i| TABLE[usize::from(i)].name);
        index
    });
    let name = |i: &u16| TABLE[usize::from(*i)].name;
    let start = index.partition_point(|i| name(i) < word);
    let len = index[start..].partition_point(|i| name(i) == word);
    index[start..start + len]
        .iter()
        .map(|&i| &TABLE[usize::from(i)])
}

fn find(ctx: Ctx, word: &str) -> Option<&'static Keyword> {
    named(word).find(|k| k.ctx == ctx)
}

/// Whether `word` (first on its line, `has_args` if words follow it) opens a block, so that a
/// forgotten `{` after it is reported instead of misreading what follows.
pub(crate) fn opens_block(word: &str, has_args: bool) -> bool {
    named(word).any(|k| match k.shape {
        Shape::Block => true,
        Shape::BlockOrValue => !has_args,
        Shape::Value => false,
    })
}

/// A block keyword that exists only at the top level: met inside a block, it means a `}` is
/// missing before it.
pub(crate) fn top_level_only(word: &str) -> bool {
    let mut found = named(word);
    found
        .clone()
        .any(|k| k.ctx == Top && k.shape == Shape::Block)
        && found.all(|k| k.ctx == Top)
}

/// Says what the user must know about `stmt` in block `ctx` and returns whether the reader
/// should read it: true for a keyword vrrpd implements; otherwise a warning (a keepalived
/// keyword vrrpd ignores) or an error (a keyword of another block, or no keyword at all).
pub(crate) fn check(ctx: Ctx, stmt: &Stmt, sink: &mut Sink) -> bool {
    if stmt.key.quoted {
        sink.error(
            stmt.pos(),
            format!(
                "\"{}\" is quoted, and a quoted string is never a keyword (in {})",
                stmt.key.text,
                ctx.name()
            ),
        );
        return false;
    }
    let word = stmt.keyword();
    if let Some(k) = find(ctx, word) {
        let Some(lost) = k.lost else { return true };
        let what = if stmt.block.is_some() { " block" } else { "" };
        sink.warn(
            stmt.pos(),
            format!("'{word}'{what} is not supported by vrrpd; ignored: {lost}"),
        );
        return false;
    }
    let text = &stmt.key.text;
    if let Some(home) = named(word).next().map(|k| k.ctx) {
        let hint = if ctx == Top {
            " (was a block closed too early?)"
        } else {
            ""
        };
        sink.error(
            stmt.pos(),
            format!(
                "'{text}' belongs in {}, not in {}{hint}",
                home.name(),
                ctx.name()
            ),
        );
        return false;
    }
    let mut message = format!("unknown keyword '{text}' in {}", ctx.name());
    if let Some(best) = suggest(ctx, text) {
        message.push_str(&format!("; did you mean '{best}'?"));
    }
    sink.error(stmt.pos(), message);
    false
}

/// The keyword of `ctx` closest to `word`, if it is close enough to be a typo of it.
fn suggest(ctx: Ctx, word: &str) -> Option<&'static str> {
    let limit = if word.len() < 6 { 1 } else { 2 };
    TABLE
        .iter()
        .filter(|k| k.ctx == ctx)
        .map(|k| (distance(word, k.name), k.name))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, name)| name)
}

/// Edit distance with transpositions (optimal string alignment), on bytes: keywords are ASCII.
fn distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    // Three rows: two back (for transpositions), previous, current.
    let mut prev2: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_finds_what_a_scan_finds() {
        for k in TABLE
            .iter()
            .chain([&value(Top, "no_such_word"), &value(Top, "")])
        {
            let scan: Vec<_> = TABLE.iter().filter(|o| o.name == k.name).collect();
            let indexed: Vec<_> = named(k.name).collect();
            assert_eq!(scan.len(), indexed.len(), "{}", k.name);
            // The same entries in the same order. Not by address: TABLE is a `const`, whose
            // uses need not share one copy (adding an entry made two of them differ).
            let same = |a: &Keyword, b: &Keyword| a.ctx == b.ctx && a.name == b.name;
            assert!(
                scan.iter().zip(&indexed).all(|(a, b)| same(a, b)),
                "{}",
                k.name
            );
        }
    }

    #[test]
    fn one_entry_per_keyword_and_block() {
        for (i, k) in TABLE.iter().enumerate() {
            assert!(
                !TABLE[..i]
                    .iter()
                    .any(|o| o.ctx == k.ctx && o.name == k.name),
                "{} listed twice in {:?}",
                k.name,
                k.ctx
            );
        }
    }

    #[test]
    fn distances() {
        assert_eq!(distance("virtual_ipadress", "virtual_ipaddress"), 1);
        assert_eq!(distance("priorty", "priority"), 1);
        assert_eq!(distance("prioirty", "priority"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(
            suggest(Instance, "virtual_ipadress"),
            Some("virtual_ipaddress")
        );
        assert_eq!(suggest(Instance, "zzzzzzzz"), None);
    }

    #[test]
    fn quoted_words_are_no_keywords() {
        let mut sink = Sink::default();
        let file = sink.add_file("t");
        let pos = super::super::diag::Pos { file, line: 3 };
        let stmt = Stmt {
            key: super::super::tree::Word {
                text: "priority".into(),
                quoted: true,
                pos,
            },
            args: Vec::new(),
            block: None,
        };
        assert!(!check(Instance, &stmt, &mut sink));
        let d: Vec<String> = sink
            .into_diagnostics()
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert_eq!(
            d,
            [
                "t:3: error: \"priority\" is quoted, and a quoted string is never a keyword (in vrrp_instance)"
            ]
        );
    }

    #[test]
    fn shapes() {
        assert!(opens_block("vrrp_instance", true));
        assert!(opens_block("vrrp_unicast_peer", false));
        assert!(!opens_block("vrrp_unicast_peer", true));
        assert!(!opens_block("priority", false));
        assert!(top_level_only("vrrp_instance"));
        assert!(top_level_only("virtual_server"));
        // Also an instance keyword.
        assert!(!top_level_only("track_file"));
        assert!(!top_level_only("net_namespace"));
    }
}
