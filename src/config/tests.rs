//! End-to-end tests of the reader: real keepalived configs, every important diagnostic with
//! its exact text and line, includes, and robustness on arbitrary input.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;
use std::{fs, process};

use super::*;

fn diags(loaded: &Loaded) -> Vec<String> {
    loaded.diagnostics.iter().map(|d| d.to_string()).collect()
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

/// Loads text that must produce no diagnostics at all.
fn clean(text: &str) -> Config {
    let loaded = load_str(text, "t.conf");
    assert!(loaded.diagnostics.is_empty(), "{:#?}", diags(&loaded));
    loaded.config.expect("no errors, so a config")
}

/// Loads text that must be rejected, returning the diagnostics.
fn rejected(text: &str) -> Vec<String> {
    let loaded = load_str(text, "t.conf");
    assert!(loaded.config.is_none(), "accepted: {:#?}", diags(&loaded));
    diags(&loaded)
}

/// Loads text that must be accepted with warnings, returning both.
fn warned(text: &str) -> (Config, Vec<String>) {
    let loaded = load_str(text, "t.conf");
    let d = diags(&loaded);
    let config = loaded.config.unwrap_or_else(|| panic!("rejected: {d:#?}"));
    assert!(!d.is_empty(), "expected warnings");
    (config, d)
}

fn has(diags: &[String], want: &str) -> bool {
    diags.iter().any(|d| d == want)
}

/// A valid instance with `body` from line 7 on.
fn inst(body: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {{\n        10.0.0.1/24\n    }}\n{body}\n}}\n"
    )
}

// ---- the configs of the keepalived captures in /work/shared/vectors ----

const V2_PASS: &str = "global_defs {
    router_id vr-h1
    vrrp_version 2
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass s3cret
    }
    virtual_ipaddress {
        10.99.0.100/24 dev eth0
    }
}
";

const V2_UNICAST_H2: &str = "global_defs {
    router_id vr-h2
    vrrp_version 2
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass s3cret
    }
    unicast_src_ip 10.99.0.12
    unicast_peer {
        10.99.0.11
    }
    virtual_ipaddress {
        10.99.0.100/24 dev eth0
    }
}
";

const V3_TWO_VIPS: &str = "global_defs {
    router_id vr-h1
    vrrp_version 3
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    virtual_ipaddress {
        10.99.0.100/24 dev eth0
        10.99.0.101/24 dev eth0
    }
}
";

const V3_10MS: &str = "global_defs {
    router_id vr-h1
    vrrp_version 3
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 0.01
    virtual_ipaddress {
        10.99.0.100/24 dev eth0
    }
}
";

const V3_IPV6: &str = "global_defs {
    router_id vr-h1
    vrrp_version 3
}
vrrp_instance VI_6 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    virtual_ipaddress {
        fe80::1:100/64 dev eth0
        fd00:99::100/64 dev eth0
    }
}
";

fn vip(a: [u8; 4], len: u8, dev: Option<&str>) -> Vip {
    Vip {
        addr: IpAddr::V4(Ipv4Addr::from(a)),
        prefix_len: len,
        dev: dev.map(str::to_string),
        label: None,
        scope: 0,
        brd: None,
        on_vmac: false,
    }
}

#[test]
fn vector_v2_pass() {
    let c = clean(V2_PASS);
    assert_eq!(c.global.router_id.as_deref(), Some("vr-h1"));
    assert_eq!(c.global.vrrp_version, 2);
    let i = &c.instances[0];
    assert_eq!(i.name, "VI_1");
    assert_eq!(
        i.location,
        Location {
            file: "t.conf".into(),
            line: 5
        }
    );
    assert_eq!(i.initial_state, InitialState::Backup);
    assert_eq!(
        (i.interface.as_str(), i.vrid, i.priority),
        ("eth0", 51, 150)
    );
    assert_eq!((i.advert_int_cs, i.version), (100, 2));
    assert_eq!(i.auth_pass, Some(*b"s3cret\0\0"));
    assert_eq!(i.vips, vec![vip([10, 99, 0, 100], 24, Some("eth0"))]);
    assert!(i.preempt && !i.uses_unicast());
    assert_eq!((i.garp_master_delay, i.garp_master_repeat), (5, 5));
    assert_eq!(
        (i.garp_master_refresh, i.garp_master_refresh_repeat),
        (0, 1)
    );
}

#[test]
fn vector_v2_unicast() {
    let c = clean(V2_UNICAST_H2);
    let i = &c.instances[0];
    assert!(i.uses_unicast());
    assert_eq!(i.unicast_src_ip, Some(v4(10, 99, 0, 12)));
    assert_eq!(i.unicast_peers, vec![v4(10, 99, 0, 11)]);
    assert_eq!(i.priority, 100);
}

#[test]
fn vector_v3() {
    let c = clean(V3_TWO_VIPS);
    let i = &c.instances[0];
    assert_eq!((i.version, i.advert_int_cs, i.auth_pass), (3, 100, None));
    assert_eq!(
        i.vips,
        vec![
            vip([10, 99, 0, 100], 24, Some("eth0")),
            vip([10, 99, 0, 101], 24, Some("eth0"))
        ]
    );
    let c = clean(V3_10MS);
    assert_eq!(c.instances[0].advert_int_cs, 1);
}

#[test]
fn vector_ipv6_is_a_v3_ipv6_instance() {
    let c = clean(V3_IPV6);
    let i = &c.instances[0];
    assert_eq!((i.version, i.family), (3, crate::vrrp::Family::V6));
    let addrs: Vec<String> = i.vips.iter().map(|v| v.addr.to_string()).collect();
    assert_eq!(addrs, ["fe80::1:100", "fd00:99::100"]);
    assert_eq!(i.vips[0].prefix_len, 64);
}

/// Every `--- config of … ---` section of the shared capture notes loads, if they are here.
#[test]
fn shared_vector_files_load() {
    let Ok(dir) = fs::read_dir("/work/shared/vectors") else {
        return;
    };
    for entry in dir.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("txt") {
            continue;
        }
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        for section in text.split("--- config of ").skip(1) {
            let body = section.split_once("---\n").map_or("", |(_, b)| b);
            let loaded = load_str(body, &path.display().to_string());
            assert!(
                loaded.config.is_some(),
                "{}: {:#?}",
                path.display(),
                diags(&loaded)
            );
            assert!(
                loaded.diagnostics.is_empty(),
                "{}: {:#?}",
                path.display(),
                diags(&loaded)
            );
        }
    }
}

// ---- a larger, realistic keepalived.conf ----

const REALISTIC: &str = r#"! Configuration File for keepalived
global_defs {
   notification_email {
     acassen@firewall.loc
     failover@firewall.loc
   }
   notification_email_from Alexandre.Cassen@firewall.loc
   smtp_server 192.168.200.1
   smtp_connect_timeout 30
   router_id LVS_DEVEL
   vrrp_skip_check_adv_addr
   vrrp_garp_interval 0.001
   vrrp_garp_master_refresh 60
   script_user keepalived_script
   enable_script_security
}

vrrp_script chk_haproxy {
    script "/usr/bin/killall -0 haproxy"   # cheap liveness check
    interval 2
    timeout 3
    weight -20
    rise 2
    fall 3
}

vrrp_track_file fo_file {
    file /var/run/vrrp/force_fault
    weight 0
}

vrrp_instance VI_WAN {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass 1111
    }
    unicast_src_ip 10.99.0.11
    unicast_peer {
        10.99.0.12
        10.99.0.13
    }
    virtual_ipaddress {
        10.99.0.100/24 dev eth0 label eth0:1
        10.99.0.101/24 dev eth0
    }
    track_interface {
        eth1 weight -10
        eth2
    }
    track_script {
        chk_haproxy
    }
    track_file {
        fo_file weight 0
    }
    notify_master "/etc/keepalived/notify.sh master WAN"
    notify_backup /etc/keepalived/notify.sh backup
    notify /etc/keepalived/notify-any.sh
    garp_master_delay 2
    smtp_alert
}

vrrp_instance VI_LAN {
    state BACKUP
    interface eth1
    virtual_router_id 52
    priority 100
    advert_int 1
    nopreempt
    authentication {
        auth_type PASS
        auth_pass 2222
    }
    virtual_ipaddress {
        192.168.99.1/24 dev eth1
    }
    track_script {
        chk_haproxy weight 10
    }
}

vrrp_sync_group VG_1 {
    group {
        VI_WAN
        VI_LAN
    }
    notify_master "/etc/keepalived/sync.sh master"
    notify_fault /etc/keepalived/sync.sh fault
}
"#;

#[test]
fn realistic_config() {
    let loaded = load_str(REALISTIC, "keepalived.conf");
    assert_eq!(
        diags(&loaded),
        vec![
            "keepalived.conf:3: warning: 'notification_email' block is not supported by vrrpd; ignored: vrrpd sends no e-mail; use a notify script",
            "keepalived.conf:7: warning: 'notification_email_from' is not supported by vrrpd; ignored: vrrpd sends no e-mail; use a notify script",
            "keepalived.conf:8: warning: 'smtp_server' is not supported by vrrpd; ignored: vrrpd sends no e-mail; use a notify script",
            "keepalived.conf:9: warning: 'smtp_connect_timeout' is not supported by vrrpd; ignored: vrrpd sends no e-mail; use a notify script",
            "keepalived.conf:11: warning: 'vrrp_skip_check_adv_addr' is not supported by vrrpd; ignored: vrrpd checks every advert's address list; the check is cheap",
            "keepalived.conf:32: warning: vrrp_instance 'VI_WAN' is in vrrp_sync_group 'VG_1': its track_script/track_file weights count as 0, so a failure puts the group in FAULT (as in keepalived; 'sync_group_tracking_weight' keeps them)",
            "keepalived.conf:65: warning: 'smtp_alert' is not supported by vrrpd; ignored: vrrpd sends no e-mail; use a notify script",
            "keepalived.conf:68: warning: vrrp_instance 'VI_LAN' is in vrrp_sync_group 'VG_1': its track_script/track_file weights count as 0, so a failure puts the group in FAULT (as in keepalived; 'sync_group_tracking_weight' keeps them)",
        ]
    );
    let c = loaded.config.expect("accepted");
    let g = &c.global;
    assert_eq!(g.router_id.as_deref(), Some("LVS_DEVEL"));
    assert_eq!(g.garp_interval, Duration::from_millis(1));
    assert_eq!(g.garp_master_refresh, 60);
    assert_eq!(g.script_user, Some(("keepalived_script".into(), None)));
    assert!(g.enable_script_security);

    assert_eq!(
        c.scripts,
        vec![Script {
            name: "chk_haproxy".into(),
            location: Location {
                file: "keepalived.conf".into(),
                line: 18
            },
            script: "/usr/bin/killall -0 haproxy".into(),
            interval: Duration::from_secs(2),
            timeout: Some(Duration::from_secs(3)),
            weight: -20,
            rise: 2,
            fall: 3,
            user: None,
        }]
    );
    assert_eq!(
        c.track_files,
        vec![TrackFile {
            name: "fo_file".into(),
            location: Location {
                file: "keepalived.conf".into(),
                line: 27
            },
            file: "/var/run/vrrp/force_fault".into(),
            weight: 0,
        }]
    );

    let wan = &c.instances[0];
    let want = Instance {
        name: "VI_WAN".into(),
        location: Location {
            file: "keepalived.conf".into(),
            line: 32,
        },
        initial_state: InitialState::Master,
        interface: "eth0".into(),
        vrid: 51,
        priority: 150,
        advert_int_cs: 100,
        version: 2,
        family: crate::vrrp::Family::V4,
        preempt: true,
        preempt_delay: Duration::ZERO,
        auth_pass: Some(*b"1111\0\0\0\0"),
        vips: vec![
            Vip {
                label: Some("eth0:1".into()),
                ..vip([10, 99, 0, 100], 24, Some("eth0"))
            },
            vip([10, 99, 0, 101], 24, Some("eth0")),
        ],
        unicast_src_ip: Some(v4(10, 99, 0, 11)),
        unicast_peers: vec![v4(10, 99, 0, 12), v4(10, 99, 0, 13)],
        mcast_src_ip: None,
        garp_master_delay: 2,
        garp_master_repeat: 5,
        garp_master_refresh: 60,
        garp_master_refresh_repeat: 1,
        garp_interval: Duration::from_millis(1),
        garp_extra_if: Default::default(),
        v3_checksum_as_v2: false,
        kernel_rx_buf_size: None,
        notify_master: Some("/etc/keepalived/notify.sh master WAN".into()),
        notify_backup: Some("/etc/keepalived/notify.sh backup".into()),
        notify_fault: None,
        notify_stop: None,
        notify: Some("/etc/keepalived/notify-any.sh".into()),
        track_interfaces: vec![
            TrackInterface {
                name: "eth1".into(),
                weight: -10,
            },
            TrackInterface {
                name: "eth2".into(),
                weight: 0,
            },
        ],
        // In sync group VG_1: weights count as 0 (warned above).
        track_scripts: vec![TrackRef {
            name: "chk_haproxy".into(),
            weight: Some(0),
        }],
        track_files: vec![TrackRef {
            name: "fo_file".into(),
            weight: Some(0),
        }],
        track_processes: vec![],
        strict: false,
        extras: Default::default(),
        vmacs: Vec::new(),
    };
    assert_eq!(wan, &want);

    let lan = &c.instances[1];
    assert_eq!(lan.initial_state, InitialState::Backup);
    assert!(!lan.preempt);
    assert!(!lan.uses_unicast());
    assert_eq!(lan.auth_pass, Some(*b"2222\0\0\0\0"));
    // `weight 10`, but in sync group VG_1 it counts as 0 (warned above).
    assert_eq!(
        lan.track_scripts,
        vec![TrackRef {
            name: "chk_haproxy".into(),
            weight: Some(0)
        }]
    );

    assert_eq!(
        c.sync_groups,
        vec![SyncGroup {
            name: "VG_1".into(),
            location: Location {
                file: "keepalived.conf".into(),
                line: 87
            },
            members: vec!["VI_WAN".into(), "VI_LAN".into()],
            notify_master: Some("/etc/keepalived/sync.sh master".into()),
            notify_backup: None,
            notify_fault: Some("/etc/keepalived/sync.sh fault".into()),
            notify_stop: None,
            notify: None,
        }]
    );
}

#[test]
fn example_config_is_clean() {
    let text = include_str!("../../etc/vrrpd.conf");
    let c = clean(text);
    let i = &c.instances[0];
    assert_eq!((i.version, i.advert_int_cs, i.priority), (3, 100, 150));
    assert_eq!(i.vips, vec![vip([10, 99, 0, 100], 24, Some("eth0"))]);
}

// ---- lexical details ----

#[test]
fn comments_quotes_and_glued_braces() {
    let c = clean(
        "vrrp_instance VI_1{ # comment after a glued brace\n\
         interface eth0 ! bang comment\n\
         virtual_router_id 51#no space\n\
         virtual_ipaddress{10.0.0.1/24}\n\
         notify \"/x.sh arg\"\n\
         notify_master /y.sh  a   b\n\
         notify_backup \"/z.sh 'two words' #x\"\n\
         }",
    );
    let i = &c.instances[0];
    assert_eq!(i.vrid, 51);
    assert_eq!(i.vips, vec![vip([10, 0, 0, 1], 24, None)]);
    assert_eq!(i.notify.as_deref(), Some("/x.sh arg"));
    assert_eq!(i.notify_master.as_deref(), Some("/y.sh a b"));
    assert_eq!(i.notify_backup.as_deref(), Some("/z.sh 'two words' #x"));
}

#[test]
fn one_line_blocks_and_brace_on_next_line() {
    let c = clean(
        "global_defs { router_id r1 }\n\
         vrrp_instance VI_1\n{\n interface eth0\n virtual_router_id 7\n\
         virtual_ipaddress { 10.0.0.1 }\n unicast_peer { 10.0.0.2 10.0.0.3 }\n}\n",
    );
    assert_eq!(c.global.router_id.as_deref(), Some("r1"));
    assert_eq!(c.instances[0].unicast_peers.len(), 2);
}

#[test]
fn aliases_and_defaults() {
    let c = clean(&inst(
        "    vrrp_unicast_bind 10.0.0.2\n    vrrp_unicast_peer {\n        10.0.0.3\n    }",
    ));
    let i = &c.instances[0];
    assert_eq!(i.unicast_src_ip, Some(v4(10, 0, 0, 2)));
    assert_eq!(i.unicast_peers, vec![v4(10, 0, 0, 3)]);
    assert_eq!((i.priority, i.advert_int_cs, i.version), (100, 100, 2));
    assert_eq!(i.initial_state, InitialState::Backup);
}

#[test]
fn priority_255_is_valid() {
    let c = clean(&inst("    priority 255\n    state MASTER"));
    assert_eq!(c.instances[0].priority, 255);
}

#[test]
fn global_values_flow_into_instances() {
    let c = clean(&format!(
        "global_defs {{\n vrrp_version 3\n vrrp_garp_master_delay 1\n vrrp_garp_master_repeat 2\n\
         vrrp_garp_master_refresh 30\n vrrp_garp_master_refresh_repeat 3\n v3_checksum_as_v2\n}}\n{}",
        inst(
            "    version 3\n    garp_master_repeat 9\n    v3_checksum_as_v2 off\n    preempt_delay 2.5"
        )
    ));
    let i = &c.instances[0];
    assert_eq!(i.version, 3);
    assert_eq!((i.garp_master_delay, i.garp_master_repeat), (1, 9));
    assert_eq!(
        (i.garp_master_refresh, i.garp_master_refresh_repeat),
        (30, 3)
    );
    assert!(c.global.v3_checksum_as_v2 && !i.v3_checksum_as_v2);
    assert_eq!(i.preempt_delay, Duration::from_millis(2500));
}

#[test]
fn log_unknown_vrids_is_read_without_a_warning() {
    assert!(!clean(&inst("")).global.log_unknown_vrids);
    let c = clean(&format!(
        "global_defs {{\n log_unknown_vrids\n}}\n{}",
        inst("")
    ));
    assert!(c.global.log_unknown_vrids);
}

#[test]
fn vrrp_min_garp() {
    let c = clean(&format!("global_defs {{\n vrrp_min_garp\n}}\n{}", inst("")));
    assert_eq!(
        (c.global.garp_master_delay, c.global.garp_master_repeat),
        (0, 1)
    );
}

// ---- errors: exact text and line ----

#[test]
fn structure_errors() {
    assert_eq!(
        rejected("vrrp_instance VI_1\n    interface eth0\n}\n"),
        vec![
            "t.conf:1: error: expected '{' after 'vrrp_instance'",
            "t.conf:1: error: vrrp_instance 'VI_1' has no 'virtual_router_id'",
            "t.conf:1: warning: vrrp_instance 'VI_1' has no virtual addresses",
        ]
    );
    assert!(has(
        &rejected(&format!("{}}}\n", inst(""))),
        "t.conf:9: error: unexpected '}' with no open block (was a block closed too early?)"
    ));
    assert!(has(
        &rejected("vrrp_instance VI_1 {\n    interface eth0\n"),
        "t.conf:1: error: 'vrrp_instance' block is not closed (missing '}')"
    ));
    assert!(has(
        &rejected(&inst("    notify \"/x.sh")),
        "t.conf:7: error: unterminated quoted string"
    ));
}

#[test]
fn block_closed_early() {
    let d = rejected(&inst("    }\n    priority 200"));
    assert_eq!(
        d,
        vec![
            "t.conf:8: error: 'priority' belongs in vrrp_instance, not in the top level (was a block closed too early?)",
            "t.conf:9: error: unexpected '}' with no open block (was a block closed too early?)",
        ]
    );
}

#[test]
fn missing_arguments_and_bad_values() {
    let cases: &[(&str, &str)] = &[
        (
            "    unicast_src_ip",
            "t.conf:7: error: expected an IPv4 or IPv6 address after 'unicast_src_ip'",
        ),
        (
            "    priority",
            "t.conf:7: error: expected a number after 'priority'",
        ),
        (
            "    priority 0",
            "t.conf:7: error: priority 0 is out of range (1-255)",
        ),
        (
            "    priority 256",
            "t.conf:7: error: priority 256 is out of range (1-255)",
        ),
        (
            "    priority high",
            "t.conf:7: error: 'high' is not a valid number for 'priority'",
        ),
        (
            "    state PRIMARY",
            "t.conf:7: error: state must be MASTER or BACKUP, not 'PRIMARY'",
        ),
        (
            "    version 4",
            "t.conf:7: error: version 4 is out of range (2-3)",
        ),
        (
            "    advert_int 256",
            "t.conf:7: error: advert_int 256 is out of range for VRRPv2 (1-255 s)",
        ),
        (
            "    advert_int 0",
            "t.conf:7: error: advert_int 0 is out of range for VRRPv2 (1-255 s)",
        ),
        (
            "    version 3\n    advert_int 41",
            "t.conf:8: error: advert_int 41 is out of range for VRRPv3 (0.01-40.95 s)",
        ),
        (
            "    version 3\n    advert_int 0.001",
            "t.conf:8: error: advert_int 0.001 is out of range for VRRPv3 (0.01-40.95 s)",
        ),
        (
            "    advert_int 1s",
            "t.conf:7: error: '1s' is not a valid time in seconds for 'advert_int'",
        ),
        (
            "    preempt_delay 1001",
            "t.conf:7: error: preempt_delay 1001 is out of range (0-1000 s)",
        ),
        (
            "    unicast_src_ip 10.0.0.256\n    unicast_peer {\n 10.0.0.2\n }",
            "t.conf:7: error: '10.0.0.256' is not a valid IPv4 or IPv6 address (after 'unicast_src_ip')",
        ),
        (
            "    unicast_peer {\n        10.0.0.x\n    }",
            "t.conf:8: error: '10.0.0.x' is not a valid IPv4 or IPv6 address (after 'unicast_peer')",
        ),
        (
            "    interface averyveryverylongname",
            "t.conf:7: error: 'averyveryverylongname' is not a valid interface name (1-15 bytes)",
        ),
        (
            "    track_interface {\n        eth1 weight 254\n    }",
            "t.conf:8: error: weight 254 is out of range (-253 to 253)",
        ),
        (
            "    priority 100 {\n    }",
            "t.conf:7: error: 'priority' does not take a '{' block",
        ),
    ];
    for (body, want) in cases {
        let d = rejected(&inst(body));
        assert!(has(&d, want), "for {body:?}: {d:#?}");
    }
}

#[test]
fn vrid_range() {
    let text = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 0\n}\n";
    assert!(has(
        &rejected(text),
        "t.conf:3: error: virtual_router_id 0 is out of range (1-255)"
    ));
    let text = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 256\n}\n";
    assert!(has(
        &rejected(text),
        "t.conf:3: error: virtual_router_id 256 is out of range (1-255)"
    ));
}

#[test]
fn missing_required() {
    let d = rejected("vrrp_instance VI_1 {\n virtual_router_id 5\n}\n");
    assert!(has(
        &d,
        "t.conf:1: error: vrrp_instance 'VI_1' has no 'interface'"
    ));
    assert!(has(
        &rejected("vrrp_instance {\n}\n"),
        "t.conf:1: error: vrrp_instance needs a name"
    ));
}

#[test]
fn duplicates() {
    let text = format!("{}{}", inst(""), inst(""));
    assert!(has(
        &rejected(&text),
        "t.conf:9: error: vrrp_instance 'VI_1' is defined twice (first at t.conf:1)"
    ));
    let text = format!("{}{}", inst(""), inst("").replace("VI_1", "VI_2"));
    assert!(has(
        &rejected(&text),
        "t.conf:9: error: virtual_router_id 51 on eth0 is already used by vrrp_instance 'VI_1'"
    ));
    // The same VRID on another interface is fine.
    let other = inst("").replace("VI_1", "VI_2").replace("eth0", "eth1");
    clean(&format!("{}{other}", inst("")));
    let text = "vrrp_script s {\n script /a\n}\nvrrp_script s {\n script /b\n}\n";
    assert!(has(
        &rejected(text),
        "t.conf:4: error: vrrp_script 's' is defined twice (first at t.conf:1)"
    ));
}

#[test]
fn unicast_without_peers() {
    assert_eq!(
        rejected(&inst("    unicast_src_ip 10.0.0.2")),
        vec![
            "t.conf:7: error: unicast_src_ip given but no unicast_peer: vrrpd will not fall back to multicast"
        ]
    );
    assert_eq!(
        rejected(&inst("    unicast_peer {\n    }")),
        vec![
            "t.conf:7: error: unicast_peer has no addresses: vrrpd will not fall back to multicast"
        ]
    );
}

#[test]
fn undefined_references() {
    assert_eq!(
        rejected(&inst("    track_script {\n        chk_nothing\n    }")),
        vec!["t.conf:8: error: track_script 'chk_nothing' is not defined by any vrrp_script"]
    );
    assert_eq!(
        rejected(&inst("    track_file {\n        tf weight 3\n    }")),
        vec!["t.conf:8: error: track_file 'tf' is not defined by any vrrp_track_file"]
    );
    let text = format!(
        "{}vrrp_sync_group G {{\n group {{\n VI_1 VI_9\n }}\n}}\n",
        inst("")
    );
    // keepalived ignores such a member too.
    let (c, d) = warned(&text);
    assert_eq!(
        d,
        vec![
            "t.conf:11: warning: vrrp_sync_group 'G' names 'VI_9', which is no vrrp_instance; ignored"
        ]
    );
    assert_eq!(c.sync_groups[0].members, vec!["VI_1"]);
}

#[test]
fn limits() {
    let vips: String = (1..=33).map(|n| format!("        10.0.1.{n}\n")).collect();
    let text = format!(
        "vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {{\n{vips} }}\n}}\n"
    );
    assert_eq!(
        rejected(&text),
        vec!["t.conf:37: error: more than 32 virtual addresses (limit MAX_VIPS)"]
    );
    let peers: String = (1..=17).map(|n| format!("        10.0.2.{n}\n")).collect();
    let text = inst(&format!("    unicast_peer {{\n{peers}    }}"));
    assert_eq!(
        rejected(&text),
        vec!["t.conf:24: error: more than 16 unicast peers (limit MAX_PEERS)"]
    );
    let many: String = (0..33)
        .map(|n| {
            format!(
                "vrrp_instance V{n} {{\n interface e{n}\n virtual_router_id 1\n virtual_ipaddress {{\n 10.0.0.1\n }}\n}}\n"
            )
        })
        .collect();
    assert_eq!(
        rejected(&many),
        vec!["t.conf:225: error: more than 32 interfaces (limit MAX_INTERFACES)"]
    );
    let many: String = (0..256)
        .map(|n| {
            format!(
                "vrrp_instance V{n} {{\n interface eth0\n virtual_router_id {}\n virtual_ipaddress {{\n 10.0.0.1\n }}\n}}\n",
                n % 255 + 1
            )
        })
        .collect();
    let d = rejected(&many);
    assert!(
        has(
            &d,
            "t.conf:1786: error: more than 255 vrrp instances (limit MAX_INSTANCES)"
        ),
        "{d:#?}"
    );
}

#[test]
fn authentication() {
    let auth = |body: &str| inst(&format!("    authentication {{\n{body}\n    }}"));
    assert_eq!(
        rejected(&auth("        auth_type AH\n        auth_pass x")),
        vec!["t.conf:8: error: auth_type AH is not supported by vrrpd (only PASS)"]
    );
    assert_eq!(
        rejected(&auth("        auth_type PASS")),
        vec!["t.conf:7: error: auth_type PASS needs an auth_pass"]
    );
    let (c, d) = warned(&auth(
        "        auth_type PASS\n        auth_pass 0123456789",
    ));
    assert_eq!(
        d,
        vec![
            "t.conf:9: warning: auth_pass is longer than 8 bytes; only the first 8 are used (as in keepalived)"
        ]
    );
    assert_eq!(c.instances[0].auth_pass, Some(*b"01234567"));
    let (c, d) = warned(
        &auth("        auth_type PASS\n        auth_pass x").replace(
            "virtual_router_id 51",
            "virtual_router_id 51\n    version 3",
        ),
    );
    assert_eq!(
        d,
        vec!["t.conf:8: warning: authentication is ignored with VRRPv3 (as in keepalived)"]
    );
    assert_eq!(c.instances[0].auth_pass, None);
}

// ---- warnings ----

#[test]
fn unsupported_keywords_are_skipped_with_their_blocks() {
    let (c, d) = warned(&inst(
        "    use_ipvlan vrrp.51\n    track_bfd {\n        bfd1 weight 10 {\n        }\n    }\n    priority 120",
    ));
    assert_eq!(
        d,
        vec![
            "t.conf:7: warning: 'use_ipvlan' is not supported by vrrpd; ignored: vrrpd makes no ipvlan; use_vmac gives the VIPs a macvlan with the virtual MAC",
            "t.conf:8: warning: 'track_bfd' block is not supported by vrrpd; ignored: vrrpd has no BFD",
        ]
    );
    assert_eq!(c.instances[0].priority, 120);
    let (_, d) = warned(&format!(
        "virtual_server 10.0.0.1 80 {{\n  real_server 10.0.0.2 80 {{\n    TCP_CHECK {{\n    }}\n  }}\n}}\ntrack_group {{\n 1.2.3.4/32 dev lo\n}}\n{}",
        inst("")
    ));
    assert_eq!(
        d,
        vec![
            "t.conf:1: warning: 'virtual_server' block is not supported by vrrpd; ignored: vrrpd does VRRP only, no LVS load balancing or health checking of real servers",
            "t.conf:7: warning: 'track_group' block is not supported by vrrpd; ignored: deleting a static address, route or rule moves no instance to backup; vrrpd restores it instead",
        ]
    );
}

#[test]
fn typos_are_errors_with_a_suggestion() {
    let d = rejected(&format!(
        "foo bar\nglobal_defs {{\n  vrrp_strikt\n  priority 5\n}}\n{}",
        inst(
            "    priorty 1\n    virtual_ipadress {\n        10.0.0.2\n    }\n    authentication {\n        auth_typ PASS\n    }"
        )
    ));
    assert_eq!(
        d,
        vec![
            "t.conf:1: error: unknown keyword 'foo' in the top level",
            "t.conf:3: error: unknown keyword 'vrrp_strikt' in global_defs; did you mean 'vrrp_strict'?",
            "t.conf:4: error: 'priority' belongs in vrrp_instance, not in global_defs",
            "t.conf:12: error: unknown keyword 'priorty' in vrrp_instance; did you mean 'priority'?",
            "t.conf:13: error: unknown keyword 'virtual_ipadress' in vrrp_instance; did you mean 'virtual_ipaddress'?",
            "t.conf:17: error: unknown keyword 'auth_typ' in authentication; did you mean 'auth_type'?",
        ]
    );
}

#[test]
fn advert_rounding() {
    let (c, d) = warned(&inst("    advert_int 1.5"));
    assert_eq!(
        d,
        vec![
            "t.conf:7: warning: VRRPv2 advert_int must be whole seconds; 1.5 rounded to 2 (as in keepalived)"
        ]
    );
    assert_eq!(c.instances[0].advert_int_cs, 200);
    let (c, _) = warned(&inst("    advert_int 0.2"));
    assert_eq!(c.instances[0].advert_int_cs, 100);
    let (c, d) = warned(&inst("    version 3\n    advert_int 0.015"));
    assert_eq!(
        d,
        vec![
            "t.conf:8: warning: VRRPv3 advert_int is in units of 0.01 s; 0.015 rounded to 0.02 (as in keepalived)"
        ]
    );
    assert_eq!(c.instances[0].advert_int_cs, 2);
    let c = clean(&inst("    version 3\n    advert_int 40.95"));
    assert_eq!(c.instances[0].advert_int_cs, 4095);
}

#[test]
fn preempt_rules() {
    let (c, d) = warned(&inst("    state MASTER\n    nopreempt"));
    assert_eq!(
        d,
        vec![
            "t.conf:8: warning: 'nopreempt' needs 'state BACKUP' (as in keepalived); vrrpd keeps preemption on"
        ]
    );
    assert!(c.instances[0].preempt);
    let c = clean(&inst("    nopreempt"));
    assert!(!c.instances[0].preempt);
    let c = clean(&inst("    nopreempt\n    preempt"));
    assert!(c.instances[0].preempt);
    let (c, d) = warned(&inst("    priority 255\n    nopreempt"));
    assert_eq!(
        d,
        vec![
            "t.conf:8: warning: 'nopreempt' has no effect with priority 255: the address owner always preempts"
        ]
    );
    assert!(c.instances[0].preempt);
    let (c, _) = warned(&inst("    nopreempt\n    preempt_delay 5"));
    assert_eq!(c.instances[0].preempt_delay, Duration::ZERO);
}

#[test]
fn instance_without_vips() {
    let text = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n}\n";
    let (c, d) = warned(text);
    assert_eq!(
        d,
        vec!["t.conf:1: warning: vrrp_instance 'VI_1' has no virtual addresses"]
    );
    assert_eq!(c.instances.len(), 1);
    clean(
        "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n no_virtual_ipaddress\n}\n",
    );
}

// ---- includes ----

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("vrrpd-config-{tag}-{}", process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create dir");
        }
        fs::write(&path, text).expect("write");
        path
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn includes_relative_to_the_including_file() {
    let dir = TempDir::new("incl");
    let main = dir.write(
        "keepalived.conf",
        "global_defs {\n router_id r\n}\ninclude conf.d/*.conf\ninclude none/*.conf\n",
    );
    // a.conf includes relative to conf.d/, and an include inside a block works too.
    dir.write(
        "conf.d/a.conf",
        "include scripts/chk.conf\nvrrp_instance VI_1 {\n include body/vi1.conf\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n",
    );
    dir.write(
        "conf.d/scripts/chk.conf",
        "vrrp_script chk {\n script /bin/true\n}\n",
    );
    dir.write(
        "conf.d/body/vi1.conf",
        "interface eth0\nvirtual_router_id 9\ntrack_script {\n chk\n}\n",
    );
    dir.write("conf.d/b.txt", "this is not read\n");

    let loaded = load(&main);
    let d = diags(&loaded);
    assert_eq!(
        d,
        vec![format!(
            "{}:5: warning: include pattern 'none/*.conf' matches no files",
            main.display()
        )]
    );
    let c = loaded.config.expect("accepted");
    let i = &c.instances[0];
    assert_eq!(i.vrid, 9);
    assert_eq!(
        i.location,
        Location {
            file: dir.path().join("conf.d/a.conf").display().to_string(),
            line: 2
        }
    );
    assert_eq!(
        c.scripts[0].location,
        Location {
            file: dir
                .path()
                .join("conf.d/scripts/chk.conf")
                .display()
                .to_string(),
            line: 1
        }
    );
}

#[test]
fn include_loop_and_errors_inside_includes() {
    let dir = TempDir::new("loop");
    let main = dir.write("main.conf", "include a.conf\n");
    let a = dir.write(
        "a.conf",
        "include main.conf\nvrrp_instance X {\n priority 0\n}\n",
    );
    let d = diags(&load(&main));
    assert!(
        has(
            &d,
            &format!(
                "{}:1: error: include loop: '{}' is already being read",
                a.display(),
                dir.path().join("main.conf").display()
            )
        ),
        "{d:#?}"
    );
    assert!(
        has(
            &d,
            &format!(
                "{}:3: error: priority 0 is out of range (1-255)",
                a.display()
            )
        ),
        "{d:#?}"
    );
}

#[test]
fn include_depth_is_bounded() {
    let dir = TempDir::new("deep");
    // Each file includes a new one: no loop, so only the depth limit stops it.
    for n in 0..12 {
        dir.write(&format!("f{n}.conf"), &format!("include f{}.conf\n", n + 1));
    }
    dir.write("f12.conf", "");
    let d = diags(&load(&dir.path().join("f0.conf")));
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(
        d[0].ends_with("error: includes nested more than 8 deep; not reading 'f9.conf'"),
        "{d:#?}"
    );
}

#[test]
fn unreadable_files() {
    let missing = std::env::temp_dir().join(format!("vrrpd-config-missing-{}.conf", process::id()));
    let loaded = load(&missing);
    assert!(loaded.config.is_none());
    assert_eq!(loaded.diagnostics.len(), 1);
    let d = &loaded.diagnostics[0];
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(
        d.location,
        Location {
            file: missing.display().to_string(),
            line: 0
        }
    );
    assert!(d.message.starts_with("cannot read file: "), "{}", d.message);
    assert!(has(
        &rejected("include\n"),
        "t.conf:1: error: expected a file name after 'include'"
    ));
}

/// Runs `load(path)` on a thread and waits at most 10 s: a reader that blocks must fail the
/// test, not hang it. `unblock` runs on a timeout, to free the stuck thread.
fn load_bounded(path: &Path, unblock: impl FnOnce()) -> (Loaded, Duration) {
    let (tx, rx) = std::sync::mpsc::channel();
    let p = path.to_path_buf();
    let start = std::time::Instant::now();
    std::thread::spawn(move || {
        let _ = tx.send(load(&p));
    });
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(l) => (l, start.elapsed()),
        Err(_) => {
            unblock();
            panic!(
                "loading {} did not return in {:?}",
                path.display(),
                start.elapsed()
            );
        }
    }
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("path");
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

/// Opens the FIFO for writing and closes it, which lets a reader stuck in `open` go on.
fn release_fifo(path: &Path) {
    let _ = fs::OpenOptions::new().write(true).open(path);
}

#[test]
fn include_of_a_fifo_or_device_is_refused_without_blocking() {
    let dir = TempDir::new("fifo");
    let fifo = dir.path().join("pipe.conf");
    mkfifo(&fifo);
    std::os::unix::fs::symlink("/dev/null", dir.path().join("dev.conf")).expect("symlink");
    let main = dir.write(
        "main.conf",
        &format!("include pipe.conf\ninclude dev.conf\n{}", inst("")),
    );
    let (loaded, took) = load_bounded(&main, || release_fifo(&fifo));
    let d = diags(&loaded);
    let m = main.display();
    for want in [
        format!(
            "{m}:1: error: '{}': a FIFO, not a regular file; not read",
            fifo.display()
        ),
        format!(
            "{m}:2: error: '{}': a character device, not a regular file; not read",
            dir.path().join("dev.conf").display()
        ),
    ] {
        assert!(has(&d, &want), "after {took:?}, wanted {want:?} in {d:#?}");
    }
    assert!(loaded.config.is_none());
    // The main file itself a FIFO (`vrrpd -t -f FIFO`): an error too, at once.
    let (loaded, took) = load_bounded(&fifo, || release_fifo(&fifo));
    assert_eq!(
        diags(&loaded),
        [format!(
            "{}:0: error: a FIFO, not a regular file; not read",
            fifo.display()
        )],
        "after {took:?}"
    );
}

#[test]
fn config_size_is_capped_per_file_and_in_total() {
    let dir = TempDir::new("size");
    // Comment lines: harmless text, so only the size can be refused.
    let filler = |bytes: u64| format!("{}\n", "#".repeat(63)).repeat(bytes as usize / 64 + 1);
    let big = dir.write("big.conf", &filler(crate::limits::MAX_CONFIG_FILE));
    let parts: Vec<PathBuf> = (0..3)
        .map(|k| {
            dir.write(
                &format!("part{k}.conf"),
                &filler(crate::limits::MAX_CONFIG_FILE * 3 / 4),
            )
        })
        .collect();
    let main = dir.write(
        "main.conf",
        &format!("include big.conf\ninclude part*.conf\n{}", inst("")),
    );
    let (loaded, took) = load_bounded(&main, || {});
    let d = diags(&loaded);
    let big_len = fs::metadata(&big).expect("stat").len();
    let m = main.display();
    let want_big = format!(
        "{m}:1: error: '{}': {big_len} bytes or more, over the {}-byte limit of one config \
         file (MAX_CONFIG_FILE); not read",
        big.display(),
        crate::limits::MAX_CONFIG_FILE
    );
    let want_total = format!(
        "{m}:2: error: '{}': would take the whole configuration over {} bytes \
         (MAX_CONFIG_TOTAL); not read",
        parts[2].display(),
        crate::limits::MAX_CONFIG_TOTAL
    );
    assert!(
        has(&d, &want_big) && has(&d, &want_total) && d.len() == 2,
        "a {big_len}-byte file and three of {} bytes, after {took:?}: {d:#?}",
        fs::metadata(&parts[0]).expect("stat").len()
    );
}

#[test]
fn thousands_of_vips_stop_at_the_limit_first() {
    // The duplicate check compares each VIP with those kept; run to the end over 60k lines it
    // was quadratic (200k VIPs: 8 s of `vrrpd -t`, and a reload stalled the loop as long).
    // 60k stays under the preprocessor's bound on lines.
    let vips: String = (0..60_000u32)
        .map(|n| format!("  10.{}.{}.{}\n", n >> 16, (n >> 8) & 255, n & 255))
        .collect();
    let text = format!(
        "vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {{\n{vips} }}\n}}\n"
    );
    let (tx, rx) = std::sync::mpsc::channel();
    let start = std::time::Instant::now();
    std::thread::spawn(move || {
        let _ = tx.send(diags(&load_str(&text, "t.conf")));
    });
    let d = rx.recv_timeout(Duration::from_secs(10));
    let took = start.elapsed();
    let Ok(d) = d else {
        panic!("60k VIPs: no answer in {took:?}");
    };
    assert_eq!(
        d,
        [format!(
            "t.conf:{}: error: more than {} virtual addresses (limit MAX_VIPS)",
            5 + crate::limits::MAX_VIPS,
            crate::limits::MAX_VIPS
        )],
        "60k VIPs in {took:?}"
    );
    // Generous (a debug build on a loaded machine); the quadratic check took minutes here.
    assert!(took < Duration::from_secs(8), "60k VIPs took {took:?}");
}

#[test]
fn diagnostics_are_capped() {
    let junk = "bogus_keyword 1\n".repeat(50_000);
    let loaded = load_str(&junk, "t.conf");
    let d = diags(&loaded);
    let max = crate::limits::MAX_DIAGNOSTICS;
    assert_eq!(
        d.len(),
        max + 1,
        "50000 bad lines gave {} diagnostics",
        d.len()
    );
    assert_eq!(
        d[max],
        format!(
            "t.conf:{max}: error: {} more problems not shown (limit MAX_DIAGNOSTICS = {max})",
            50_000 - max
        )
    );
}

// ---- robustness ----

/// Every prefix of a real config, and pseudo-random token soup, load without panicking.
#[test]
fn never_panics() {
    for end in 0..=REALISTIC.len() {
        if REALISTIC.is_char_boundary(end) {
            let _ = load_str(&REALISTIC[..end], "p.conf");
        }
    }
    let vocabulary = [
        "{",
        "}",
        "\"",
        "#",
        "!",
        "\n",
        "\n",
        "\n",
        "vrrp_instance",
        "VI",
        "interface",
        "eth0",
        "virtual_router_id",
        "priority",
        "255",
        "0",
        "-1",
        "1.5",
        "99999999999999",
        "advert_int",
        "version",
        "3",
        "state",
        "MASTER",
        "nopreempt",
        "preempt_delay",
        "virtual_ipaddress",
        "10.0.0.1/24",
        "dev",
        "brd",
        "+",
        "scope",
        "label",
        "fe80::1",
        "unicast_peer",
        "unicast_src_ip",
        "track_script",
        "track_file",
        "track_interface",
        "weight",
        "authentication",
        "auth_type",
        "PASS",
        "AH",
        "auth_pass",
        "global_defs",
        "vrrp_version",
        "vrrp_garp_interval",
        "vrrp_sync_group",
        "group",
        "vrrp_script",
        "script",
        "vrrp_track_file",
        "file",
        "notify",
        "include",
        "virtual_server",
        "\u{e9}",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as usize
    };
    for _ in 0..500 {
        let len = next() % 60;
        let mut text = String::new();
        for _ in 0..len {
            text.push_str(vocabulary[next() % vocabulary.len()]);
            if next() % 3 != 0 {
                text.push(' ');
            }
        }
        let _ = load_str(&text, "r.conf");
        // Also inside an instance, where most keyword handlers run.
        let _ = load_str(&inst(&text), "r.conf");
    }
}

#[test]
fn max_script_children_is_bounded() {
    let c = clean(&format!(
        "global_defs {{\n max_script_children 4\n}}\n{}",
        inst("")
    ));
    assert_eq!(c.global.max_script_children, 4);
    assert_eq!(clean(&inst("")).global.max_script_children, 32);
    for bad in ["0", "257"] {
        let errs = rejected(&format!(
            "global_defs {{\n max_script_children {bad}\n}}\n{}",
            inst("")
        ));
        assert!(
            errs.iter().any(|e| e.starts_with("t.conf:2: error:")),
            "{errs:?}"
        );
    }
}

#[test]
fn scheduling_keywords_of_keepalived() {
    let c = clean(&format!(
        "global_defs {{\n vrrp_priority -5\n vrrp_rt_priority 20\n vrrp_rlimit_rttime 5000\n vrrp_no_swap\n}}\n{}",
        inst("")
    ));
    let s = c.global.sched;
    assert_eq!(
        (s.nice, s.rt_priority, s.rlimit_rttime_us, s.no_swap),
        (Some(-5), Some(20), 5000, true)
    );
    assert_eq!(clean(&inst("")).global.sched, Sched::default());
    let errs = rejected(&format!(
        "global_defs {{\n vrrp_rt_priority 100\n}}\n{}",
        inst("")
    ));
    assert!(
        errs.iter().any(|e| e.starts_with("t.conf:2: error:")),
        "{errs:?}"
    );
}

#[test]
fn same_as_ignores_where_a_block_sits_but_not_what_it_says() {
    let block = "vrrp_script chk {\n script /bin/true\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 7\n priority 100\n virtual_ipaddress {\n  10.99.0.100\n }\n}\n";
    let a = clean(block);
    let b = clean(&format!("\n\n# moved down\n{block}"));
    assert_ne!(a.instances[0].location, b.instances[0].location);
    assert!(a.instances[0].same_as(&b.instances[0]));
    assert!(a.scripts[0].same_as(&b.scripts[0]));
    let c = clean(&block.replace("priority 100", "priority 101"));
    assert!(!a.instances[0].same_as(&c.instances[0]));
}

// ---- keepalived's own samples and the spellings people really use ----

/// A sample shipped with Debian's keepalived package (installed by `.ci/run`).
fn keepalived_sample(name: &str) -> Option<String> {
    let path = format!("/usr/share/doc/keepalived/samples/{name}");
    match fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{path}: {e} (keepalived must be installed)")
        }
        Err(e) => {
            eprintln!("skipped: {path}: {e}");
            None
        }
    }
}

#[test]
fn sync_sample_with_any_one_brace_missing_gives_at_most_two_errors() {
    let Some(sample) = keepalived_sample("keepalived.conf.vrrp.sync") else {
        return;
    };
    let whole = load_str(&sample, "sync.conf");
    assert!(whole.diagnostics.is_empty(), "{:#?}", diags(&whole));
    for (at, _) in sample.match_indices('}') {
        let broken = format!("{}{}", &sample[..at], &sample[at + 1..]);
        let loaded = load_str(&broken, "sync.conf");
        let errors: Vec<String> = diags(&loaded)
            .into_iter()
            .filter(|d| d.contains(": error: "))
            .collect();
        assert!(
            (1..=2).contains(&errors.len()),
            "'}}' at byte {at} deleted: {:#?}",
            diags(&loaded)
        );
    }
}

#[test]
fn a_missing_brace_is_one_error_and_the_rest_loads() {
    let text = "vrrp_sync_group G {\n  group {\n    VI_1\n    VI_2\n  }\n}\n\
                vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    virtual_ipaddress {\n        10.0.0.1/24\n\
                }\n\
                vrrp_instance VI_2 {\n    interface eth0\n    virtual_router_id 52\n    virtual_ipaddress {\n        10.0.0.2/24\n    }\n}\n";
    let loaded = load_str(text, "t.conf");
    assert_eq!(
        diags(&loaded),
        vec![
            "t.conf:13: error: 'vrrp_instance' block is not closed: '}' missing before line 13 (opened at line 7)"
        ]
    );
    // Nested deeper: the innermost open block is named, and the next top-level block still
    // starts a new one.
    let text = "vrrp_instance VI_1 {\n    interface eth0\n    track_script {\n        chk\n\
                vrrp_script chk {\n    script \"/bin/true\"\n}\n";
    assert_eq!(
        rejected(text),
        vec![
            "t.conf:1: error: vrrp_instance 'VI_1' has no 'virtual_router_id'",
            "t.conf:1: warning: vrrp_instance 'VI_1' has no virtual addresses",
            "t.conf:5: error: 'track_script' block is not closed: '}' missing before line 5 (opened at line 3)",
        ]
    );
}

#[test]
fn conditional_sample_loads_for_each_id() {
    let Some(sample) = keepalived_sample("keepalived.conf.conditional_conf") else {
        return;
    };
    for (id, prio, script) in [
        ("high", 170, "/etc/keepalived/scripts/check_high_VI_0.sh"),
        ("low", 85, "/etc/keepalived/scripts/check_low_VI_0.sh"),
    ] {
        let loaded = load_str_as(&sample, "cond.conf", id);
        let d = diags(&loaded);
        assert_eq!(
            d,
            vec![
                "cond.conf:3: warning: 'net_namespace' is not supported by vrrpd; ignored: vrrpd does not switch network namespaces; start it inside one (ip netns exec)".to_string(),
            ]
            .into_iter()
            // With "low", line 4 (`@low net_namespace low`) is the one kept.
            .map(|l| if id == "low" { l.replace("cond.conf:3:", "cond.conf:4:") } else { l })
            .collect::<Vec<_>>()
        );
        let c = loaded.config.expect("accepted");
        assert_eq!(c.instances[0].priority, prio);
        assert_eq!(c.scripts[0].script, script);
    }
}

#[test]
fn conditional_lines_parameters_and_sequences() {
    let text = "$VIP_NET=10.0.0\n@r1 $PRIO=200\n@^r1 $PRIO=100\n\
                vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 51\n    priority $PRIO\n\
                    virtual_ipaddress {\n        ~SEQ(N, 1, 3) ${VIP_NET}.${N}/24\n    }\n    @r1 nopreempt\n}\n";
    let c = load_str_as(text, "t.conf", "r1").config.expect("accepted");
    let i = &c.instances[0];
    assert_eq!((i.priority, i.preempt), (200, false));
    let vips: Vec<String> = i.vips.iter().map(|v| v.addr.to_string()).collect();
    assert_eq!(vips, ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
    let c = load_str_as(text, "t.conf", "r2").config.expect("accepted");
    assert_eq!(
        (c.instances[0].priority, c.instances[0].preempt),
        (100, true)
    );
    // A line number survives expansion.
    assert_eq!(
        rejected(&format!("$P=300\n{}", inst("    priority $P"))),
        vec!["t.conf:8: error: priority 300 is out of range (1-255)"]
    );
}

#[test]
fn keepalived_1_unicast_spellings() {
    // The seed article's pair: one address per line, no virtual_ipaddress (notify scripts
    // move the VIP).
    let text = "vrrp_instance VI_1 {\n    interface eth0\n    state MASTER\n    virtual_router_id 10\n\
                    priority 101\n    vrrp_unicast_bind 192.168.121.51\n    vrrp_unicast_peer 192.168.121.52\n\
                    vrrp_unicast_peer 192.168.121.53\n    notify_master \"/etc/keepalived/notify.sh master\"\n\
                    notify_backup \"/etc/keepalived/notify.sh backup\"\n}\n";
    let (c, d) = warned(text);
    assert_eq!(
        d,
        vec!["t.conf:1: warning: vrrp_instance 'VI_1' has no virtual addresses"]
    );
    let i = &c.instances[0];
    assert_eq!(i.unicast_src_ip, Some(v4(192, 168, 121, 51)));
    assert_eq!(
        i.unicast_peers,
        [
            Ipv4Addr::new(192, 168, 121, 52),
            Ipv4Addr::new(192, 168, 121, 53)
        ]
    );
    assert_eq!(
        i.notify_master.as_deref(),
        Some("/etc/keepalived/notify.sh master")
    );
    // The block form still works.
    let c = clean(&inst(
        "    vrrp_unicast_bind 10.0.0.2\n    vrrp_unicast_peer {\n        10.0.0.3\n    }",
    ));
    assert_eq!(c.instances[0].unicast_peers, [v4(10, 0, 0, 3)]);
}

#[test]
fn sync_group_tracking_applies_to_members() {
    let text = "vrrp_script chk {\n    script \"/bin/true\"\n}\nvrrp_script own {\n    script \"/bin/true\"\n}\n\
                vrrp_track_file tf {\n    file /tmp/x\n}\n\
                vrrp_sync_group G {\n    group {\n        VI_1\n        VI_2\n    }\n    sync_group_tracking_weight\n\
                    track_script {\n        chk weight -20\n    }\n    track_interface {\n        eth9\n    }\n\
                    track_file {\n        tf\n    }\n    track_file {\n        nope\n    }\n}\n\
                vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 1\n    virtual_ipaddress {\n        10.0.0.1\n    }\n\
                    track_script {\n        chk\n        own\n    }\n}\n\
                vrrp_instance VI_2 {\n    interface eth0\n    virtual_router_id 2\n    virtual_ipaddress {\n        10.0.0.2\n    }\n}\n";
    assert_eq!(
        rejected(text),
        vec![
            "t.conf:26: error: track_file 'nope' is not defined by any vrrp_track_file",
            "t.conf:36: warning: track_script 'chk' is given on vrrp_instance 'VI_1' and on its vrrp_sync_group 'G'; the group's is used",
        ]
    );
    let text = text.replace("    track_file {\n        nope\n    }\n", "");
    let (c, d) = warned(&text);
    assert_eq!(
        d,
        vec![
            "t.conf:33: warning: track_script 'chk' is given on vrrp_instance 'VI_1' and on its vrrp_sync_group 'G'; the group's is used"
        ]
    );
    for i in &c.instances {
        let scripts: Vec<(&str, Option<i32>)> = i
            .track_scripts
            .iter()
            .map(|r| (r.name.as_str(), r.weight))
            .collect();
        let want: &[(&str, Option<i32>)] = if i.name == "VI_1" {
            &[("own", None), ("chk", Some(-20))]
        } else {
            &[("chk", Some(-20))]
        };
        assert_eq!(scripts, want, "{}", i.name);
        assert_eq!(i.track_interfaces[0].name, "eth9");
        assert_eq!(i.track_files[0].name, "tf");
    }
    // Without sync_group_tracking_weight the weights count as 0, as in keepalived.
    let text = text.replace("    sync_group_tracking_weight\n", "");
    let (c, d) = warned(&text);
    assert_eq!(
        d,
        vec![
            "t.conf:25: warning: vrrp_instance 'VI_1' is in vrrp_sync_group 'G': its track_script/track_file weights count as 0, so a failure puts the group in FAULT (as in keepalived; 'sync_group_tracking_weight' keeps them)",
            "t.conf:32: warning: track_script 'chk' is given on vrrp_instance 'VI_1' and on its vrrp_sync_group 'G'; the group's is used",
            "t.conf:36: warning: vrrp_instance 'VI_2' is in vrrp_sync_group 'G': its track_script/track_file weights count as 0, so a failure puts the group in FAULT (as in keepalived; 'sync_group_tracking_weight' keeps them)",
        ]
    );
    assert!(c.instances.iter().all(|i| {
        i.track_scripts
            .iter()
            .chain(&i.track_files)
            .all(|r| r.weight == Some(0))
    }));
}

#[test]
fn strict_mode_rules() {
    let strict = "global_defs {\n    vrrp_strict\n}\n";
    // keepalived's default file, trimmed: each rule keepalived applies, with its message.
    let text = format!(
        "{strict}vrrp_instance VI_1 {{\n    state MASTER\n    interface eth0\n    virtual_router_id 51\n    priority 100\n\
             preempt_delay 5\n    authentication {{\n        auth_type PASS\n        auth_pass 1111\n    }}\n\
             virtual_ipaddress {{\n        10.0.0.1\n    }}\n}}\n"
    );
    let (c, d) = warned(&text);
    assert_eq!(
        d,
        vec![
            "t.conf:2: warning: strict mode: vrrpd does not install keepalived's firewall rules that drop traffic to the VIPs of a non-owner (no_accept); the VIPs accept traffic, as with 'accept'",
            "t.conf:4: warning: strict mode: state MASTER must match being the address owner (priority 255); starting as BACKUP (as in keepalived)",
            "t.conf:9: warning: 'preempt_delay' is not allowed in strict mode; ignored (as in keepalived)",
            "t.conf:10: warning: strict mode does not support authentication; ignored, adverts go without it (as in keepalived)",
        ]
    );
    let i = &c.instances[0];
    assert!(i.strict);
    assert_eq!(i.initial_state, InitialState::Backup);
    assert_eq!(i.auth_pass, None);
    assert_eq!(i.preempt_delay, Duration::ZERO);

    // Errors: unicast, no VIPs.
    assert_eq!(
        rejected(&format!(
            "{strict}{}",
            inst(
                "    accept\n    unicast_src_ip 10.0.0.2\n    unicast_peer {\n        10.0.0.3\n    }"
            )
        )),
        vec!["t.conf:12: error: unicast peers are not allowed in strict mode"]
    );
    assert_eq!(
        rejected(
            "vrrp_instance V {\n    interface eth0\n    virtual_router_id 5\n    strict_mode\n}\n"
        ),
        vec![
            "t.conf:1: error: vrrp_instance 'V' has no virtual addresses; strict mode needs at least one"
        ]
    );
    // The owner, or 'accept', filters nothing: no firewall warning. strict_mode off wins.
    let c = clean(&format!("{strict}{}", inst("    priority 255")));
    assert_eq!(c.instances[0].initial_state, InitialState::Master);
    clean(&format!("{strict}{}", inst("    version 3\n    accept")));
    // With VRRPv2, 'accept' does not count in strict mode (RFC 3768 has no accept mode).
    let (_, d) = warned(&format!("{strict}{}", inst("    accept")));
    assert_eq!(
        d,
        vec![
            "t.conf:2: warning: strict mode: vrrpd does not install keepalived's firewall rules that drop traffic to the VIPs of a non-owner (no_accept); the VIPs accept traffic, as with 'accept'",
            "t.conf:10: warning: 'accept' with VRRPv2 in strict mode does not comply with RFC 3768; ignored, as keepalived resets it",
        ]
    );
    assert!(!clean(&format!("{strict}{}", inst("    strict_mode off"))).instances[0].strict);
}

#[test]
fn every_keepalived_sample_loads_but_three() {
    let Some(_) = keepalived_sample("keepalived.conf.vrrp") else {
        return;
    };
    let Ok(dir) = fs::read_dir("/usr/share/doc/keepalived/samples") else {
        return;
    };
    for entry in dir.flatten() {
        let path = entry.path();
        let name = path.file_name().map(|n| n.to_string_lossy().to_string());
        let Some(name) = name.filter(|n| n.starts_with("keepalived.conf.")) else {
            continue;
        };
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let errors: Vec<String> = diags(&load_str_as(&text, &name, "high"))
            .into_iter()
            .filter(|d| d.contains(": error: "))
            .collect();
        // keepalived itself rejects these lines too ("Unknown keyword 'VI_2'", "Invalid rule
        // to address 192.168.100./24"); AH is the one authentication vrrpd refuses.
        let want: &[&str] = match name.as_str() {
            "keepalived.conf.SSL_GET" => &[
                "keepalived.conf.SSL_GET:20: error: auth_type AH is not supported by vrrpd (only PASS)",
            ],
            "keepalived.conf.vrrp.rules" => &[
                "keepalived.conf.vrrp.rules:11: error: '192.168.100./24' is not a valid prefix for 'to'",
                "keepalived.conf.vrrp.rules:26: error: '192.168.200./24' is not a valid prefix for 'to'",
            ],
            "keepalived.conf.vrrp.lvs_syncd" => &[
                "keepalived.conf.vrrp.lvs_syncd:4: error: unknown keyword 'VI_2' in vrrp_sync_group",
                "keepalived.conf.vrrp.lvs_syncd:5: error: unknown keyword 'VI_3' in vrrp_sync_group",
            ],
            _ => &[],
        };
        assert_eq!(errors, want, "{name}");
    }
}

#[test]
fn check_names_interfaces_that_do_not_exist_now() {
    let dir = TempDir::new("ifaces");
    let path = dir.write(
        "k.conf",
        &format!(
            "vrrp_sync_group G {{\n    group {{\n        VI_1\n    }}\n    track_interface {{\n        wan weight -10\n    }}\n}}\n{}",
            inst("    track_interface {\n        eth1\n    }")
        )
        .replace("interface eth0", "interface lan0")
        .replace("10.0.0.1/24", "10.0.0.1/24 dev lan1"),
    );
    let mut source = Source::new(path.clone(), Some("x".into()));
    source.interface_exists = Some(|name| name == "eth1");
    let p = path.display();
    assert_eq!(
        diags(&source.load()),
        vec![
            format!(
                "{p}:6: warning: interface 'wan' does not exist now; it counts as down until it appears"
            ),
            format!(
                "{p}:10: warning: interface 'lan0' does not exist now; vrrp_instance 'VI_1' waits in FAULT until it appears"
            ),
            format!(
                "{p}:13: warning: interface 'lan1' does not exist now; 10.0.0.1 cannot be added on it until it appears"
            ),
        ]
    );
    // Without the system check (the daemon's load), nothing is said.
    source.interface_exists = None;
    assert!(source.load().diagnostics.is_empty());
}

#[test]
fn kernel_rx_buf_size_is_read() {
    let c = clean(&inst("    kernel_rx_buf_size 1048576"));
    assert_eq!(c.instances[0].kernel_rx_buf_size, Some(1_048_576));
    let c = clean(&inst(""));
    assert_eq!(c.instances[0].kernel_rx_buf_size, None);
    assert!(has(
        &rejected(&inst("    kernel_rx_buf_size 0")),
        "t.conf:7: error: kernel_rx_buf_size 0 is out of range (1-4294967295)"
    ));
}

// ---- IPv6 ----

fn v6inst(name: &str, ifname: &str, vrid: u8, extra: &str, vips: &str) -> String {
    format!(
        "vrrp_instance {name} {{\n    interface {ifname}\n    virtual_router_id {vrid}\n{extra}    virtual_ipaddress {{\n{vips}    }}\n}}\n"
    )
}

#[test]
fn ipv6_instance_other_family_is_excluded_and_version_is_3() {
    let text = v6inst(
        "VI_6",
        "eth0",
        51,
        "    version 2\n",
        "        fe80::1\n        fd99::1/64\n        10.99.0.1/24\n",
    );
    let (c, d) = warned(&text);
    assert_eq!(
        d,
        vec![
            "t.conf:1: warning: vrrp_instance 'VI_6' is IPv6, which needs VRRPv3: 'version 2' ignored (as in keepalived)",
            "t.conf:8: warning: virtual address 10.99.0.1 is not of the instance's address family (IPv6): it is handled as virtual_ipaddress_excluded (not advertised; keepalived 2.2.7 ignores it)",
        ]
    );
    let i = &c.instances[0];
    assert_eq!((i.version, i.family), (3, crate::vrrp::Family::V6));
    assert_eq!(i.vips.len(), 2);
    assert_eq!(i.vips[0].prefix_len, 128);
    assert_eq!(i.extras.addrs.len(), 1);
    assert_eq!(i.garp_interval, Duration::ZERO);
}

#[test]
fn ipv6_first_vip_should_be_link_local() {
    let text = v6inst(
        "VI_6",
        "eth0",
        51,
        "",
        "        fd99::1/64\n        fe80::1\n",
    );
    let (_, d) = warned(&text);
    assert_eq!(
        d,
        vec![
            "t.conf:5: warning: the first IPv6 virtual address fd99::1 is not link-local (RFC 5798 section 5.2.9 wants it first, as keepalived warns)"
        ]
    );
}

#[test]
fn ipv6_unicast_and_mcast_src_and_native_ipv6() {
    let text = v6inst(
        "VI_6",
        "eth0",
        51,
        "    native_ipv6\n    unicast_src_ip fe80::11%eth0\n    unicast_peer {\n        fe80::12\n        10.0.0.3\n    }\n",
        "",
    );
    let (c, d) = warned(&text);
    assert_eq!(
        d,
        vec![
            "t.conf:1: warning: vrrp_instance 'VI_6' has no virtual addresses",
            "t.conf:8: warning: unicast_peer 10.0.0.3 is not of the instance's address family; ignored",
        ]
    );
    let i = &c.instances[0];
    assert_eq!(i.family, crate::vrrp::Family::V6);
    assert_eq!(i.unicast_src_ip, Some("fe80::11".parse().unwrap()));
    assert_eq!(i.unicast_peers, vec!["fe80::12".parse::<IpAddr>().unwrap()]);
    let text = v6inst(
        "VI_6",
        "eth0",
        51,
        "    mcast_src_ip fe80::11\n",
        "        fe80::1\n",
    );
    let c = clean(&text);
    assert_eq!(
        c.instances[0].mcast_src_ip,
        Some("fe80::11".parse().unwrap())
    );
}

/// What an IPv6 instance loses with keepalived's keywords vrrpd does not implement: the texts
/// name both families (they said 224.0.0.18 and TTL before IPv6 existed), and the state-file
/// locations name the files vrrpd does write.
#[test]
fn ipv6_lost_messages_name_both_families() {
    let text = [
        "global_defs {\n    json_file_location /run/k.json\n}\n".to_string(),
        v6inst(
            "VI_6",
            "eth0",
            51,
            "    mcast_dst_ip ff02::12\n    unicast_ttl 64\n    garp_lower_prio_repeat 2\n",
            "        fe80::1\n",
        ),
    ]
    .concat();
    let (_, d) = warned(&text);
    assert_eq!(
        d,
        vec![
            "t.conf:2: warning: 'json_file_location' is not supported by vrrpd; ignored: keepalived.json (SIGRTMIN+2) goes to $TMPDIR, else /tmp",
            "t.conf:7: warning: 'mcast_dst_ip' is not supported by vrrpd; ignored: adverts go to the RFC's group, 224.0.0.18 or ff02::12",
            "t.conf:8: warning: 'unicast_ttl' is not supported by vrrpd; ignored: unicast adverts are sent with TTL (IPv6: hop limit) 255",
            "t.conf:9: warning: 'garp_lower_prio_repeat' is not supported by vrrpd; ignored: vrrpd answers a lower-priority master with one advert and a burst of gratuitous ARPs or unsolicited NAs, at most once per interval (no burst in strict mode)",
        ]
    );
}

#[test]
fn dual_stack_and_a_link_local_vip_on_several_links() {
    // The same VRID for both families on one link, and fe80::1 on eth0 and eth1.
    let text = [
        inst(""),
        v6inst("VI_6", "eth0", 51, "", "        fe80::1\n"),
        v6inst("VI_6b", "eth1", 52, "", "        fe80::1\n"),
        "vrrp_sync_group G {\n    group {\n        VI_1\n        VI_6\n    }\n}\n".into(),
        "global_defs {\n    vrrp_gna_interval 0.05\n}\n".into(),
    ]
    .concat();
    let c = clean(&text);
    assert_eq!(c.instances.len(), 3);
    assert_eq!(c.sync_groups[0].members, ["VI_1", "VI_6"]);
    assert_eq!(c.instances[1].garp_interval, Duration::from_millis(50));
    assert_eq!(c.instances[0].garp_interval, Duration::ZERO);
    // The same family and VRID twice on one link is still refused.
    let text = [
        v6inst("VI_6", "eth0", 51, "", "        fe80::1\n"),
        v6inst("VI_7", "eth0", 51, "", "        fe80::2\n"),
    ]
    .concat();
    let d = rejected(&text);
    assert!(
        has(
            &d,
            "t.conf:8: error: virtual_router_id 51 on eth0 is already used by vrrp_instance 'VI_6'"
        ),
        "{d:?}"
    );
}

#[test]
fn virtual_ipaddress_excluded_is_added_but_not_advertised() {
    let c = clean(&inst(
        "    virtual_ipaddress_excluded {\n        10.0.0.9/24\n        fd99::9/64\n    }",
    ));
    let i = &c.instances[0];
    assert_eq!(i.vips.len(), 1);
    let ex: Vec<String> = i.extras.addrs.iter().map(|v| v.addr.to_string()).collect();
    assert_eq!(ex, ["10.0.0.9", "fd99::9"]);
}
