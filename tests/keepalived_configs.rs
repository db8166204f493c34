//! keepalived configs as people really write them, run for real: the keepalived 1.x article
//! pair (unicast, no virtual_ipaddress, notify scripts that add and remove the VIP), vrrpd next
//! to keepalived running its own default `vrrp_strict` config, `-t` against the system, `-i`,
//! and a pid directory that does not exist yet.

mod common;

use common::*;
use std::time::Duration;

const S: Duration = Duration::from_secs(1);

/// The article's instance: keepalived 1.x unicast spellings, no virtual_ipaddress; the notify
/// scripts move the VIP with `ip address add|del`.
fn article_conf(lab: &Lab, me: usize, peer: usize, state: &str, priority: u8) -> String {
    let script = lab.script(
        &format!("notify-r{me}.sh"),
        &format!(
            "#!/bin/sh\n\
             # The article's notify script: the VIP follows the state.\n\
             case \"$1\" in\n\
             master) ip address add {VIP}/24 dev eth0 ;;\n\
             backup|fault) ip address del {VIP}/24 dev eth0 ;;\n\
             esac\n\
             exit 0\n"
        ),
    );
    let s = script.display();
    format!(
        "vrrp_instance VI_1 {{\n\
         \x20   interface eth0\n\
         \x20   state {state}\n\
         \x20   virtual_router_id 51\n\
         \x20   priority {priority}\n\
         \x20   advert_int 1\n\
         \x20   vrrp_unicast_bind {}\n\
         \x20   vrrp_unicast_peer {}\n\
         \x20   notify_master \"{s} master\"\n\
         \x20   notify_backup \"{s} backup\"\n\
         \x20   notify_fault \"{s} fault\"\n\
         }}\n",
        router_ip(me),
        router_ip(peer),
    )
}

#[test]
fn article_unicast_pair_moves_the_vip_by_notify_scripts() {
    let Some(lab) = Lab::new("cart", 2) else {
        return;
    };
    // Unicast for real: multicast VRRP does not cross the switch.
    lab.drop_multicast();
    let c1 = article_conf(&lab, 1, 2, "MASTER", 101);
    let c2 = article_conf(&lab, 2, 1, "BACKUP", 100);
    let mut d1 = lab.vrrpd(1, &c1);
    let d2 = lab.vrrpd(2, &c2);
    let why = |d1: &Daemon, d2: &Daemon| format!("{}\n{}", describe(d1), describe(d2));
    // 1 s adverts: Master_Down_Interval is a little over 3 s.
    assert!(
        lab.wait_holders(VIP, &[1], 5 * S + MARGIN),
        "{:?}\n{}",
        lab.holders(VIP),
        why(&d1, &d2)
    );
    assert!(
        d2.wait_log("Entering BACKUP STATE", 5 * S),
        "{}",
        why(&d1, &d2)
    );
    assert_eq!(lab.steady(VIP, &[1], 2 * S), Ok(()), "{}", why(&d1, &d2));

    // kill -9: no script runs on r1, so its VIP stays (as it would with keepalived); r2's
    // notify_master adds the VIP there.
    d1.kill9();
    assert!(
        lab.wait_holders(VIP, &[1, 2], 4 * S + MARGIN),
        "{:?}\n{}",
        lab.holders(VIP),
        describe(&d2)
    );
    // The crashed router comes back (its stale VIP cleared, as a reboot would) and, with the
    // higher priority, takes over: r2's notify_backup removes the VIP there.
    lab.ip(1, &["address", "del", &format!("{VIP}/24"), "dev", "eth0"]);
    let d1 = lab.vrrpd(1, &c1);
    assert!(
        lab.wait_holders(VIP, &[1], 5 * S + MARGIN),
        "{:?}\n{}",
        lab.holders(VIP),
        why(&d1, &d2)
    );
    assert_eq!(lab.steady(VIP, &[1], 2 * S), Ok(()), "{}", why(&d1, &d2));
}

/// keepalived's default keepalived.conf (Debian ships it as keepalived.conf.sample): strict
/// mode, PASS authentication that strict mode ignores, `state MASTER` at priority 100, and
/// LVS and e-mail blocks. Only the interface and addresses are changed for the lab.
fn default_strict_config() -> Option<String> {
    let path = "/etc/keepalived/keepalived.conf.sample";
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{path}: {e} (keepalived must be installed)")
        }
        Err(e) => {
            eprintln!("skipped: {path}: {e}");
            return None;
        }
    };
    assert!(
        text.contains("vrrp_strict"),
        "{path} is not the strict default"
    );
    Some(
        text.replace("192.168.200.16", "10.99.0.100/24")
            .replace("192.168.200.17", "10.99.0.101/24")
            .replace("192.168.200.18", "10.99.0.102/24"),
    )
}

/// Both daemons read the same default strict file (both `state MASTER`, priority 100): the
/// one started first becomes master, the other stays backup behind it (equal priority: RFC
/// backups accept the master), and vrrpd drops none of keepalived's adverts (neither sends
/// authentication). Then a graceful stop hands over.
fn strict_pair(prefix: &str, first: Kind, second: Kind) {
    let Some(text) = default_strict_config() else {
        return;
    };
    let Some(lab) = Lab::new(prefix, 2) else {
        return;
    };
    let check = lab.write("strict.conf", &text);
    let r = lab.vrrpd_run(1, &["-t", "-f", &check.display().to_string()]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stderr
            .contains("strict mode does not support authentication; ignored"),
        "{r:?}"
    );
    let d1 = lab.daemon(first, 1, &text);
    // Even `state MASTER` waits one Master_Down_Interval (3.6 s) in strict mode.
    assert!(
        lab.wait_master(VIP, 1, 4 * S + MARGIN),
        "{:?}\n{}",
        lab.holders(VIP),
        describe(&d1)
    );
    let d2 = lab.daemon(second, 2, &text);
    let why = |a: &Daemon, b: &Daemon| format!("{}\n{}", describe(a), describe(b));
    assert!(
        d2.wait_log("Entering BACKUP STATE", 5 * S),
        "{}",
        why(&d1, &d2)
    );
    // Past the second one's Master_Down_Interval: it stays backup.
    assert_eq!(lab.steady(VIP, &[1], 5 * S), Ok(()), "{}", why(&d1, &d2));
    let vrrpd = if first == Kind::Vrrpd { &d1 } else { &d2 };
    let x = vrrpd.must_dump("VI_1");
    if first == Kind::Keepalived {
        assert!(x.get("adverts_rx") > 0, "{x:?}");
    }
    assert_eq!(x.get("auth"), 0, "{x:?}\n{}", describe(vrrpd));
    d1.sigterm();
    assert!(
        lab.wait_master(VIP, 2, 2 * S + MARGIN),
        "{:?}\n{}",
        lab.holders(VIP),
        why(&d1, &d2)
    );
}

#[test]
fn default_strict_config_keepalived_master_vrrpd_backup() {
    strict_pair("cstrk", Kind::Keepalived, Kind::Vrrpd);
}

#[test]
fn default_strict_config_vrrpd_master_keepalived_backup() {
    strict_pair("cstrv", Kind::Vrrpd, Kind::Keepalived);
}

#[test]
fn check_knows_the_system_and_the_config_id() {
    let Some(lab) = Lab::new("cchk", 1) else {
        return;
    };
    let text = "@r1 $PRIO=200\n@^r1 $PRIO=100\n\
                vrrp_instance VI_1 {\n\
                \x20   interface eth0\n\
                \x20   virtual_router_id 51\n\
                \x20   priority $PRIO\n\
                \x20   track_interface {\n\
                \x20       eth7\n\
                \x20   }\n\
                \x20   virtual_ipaddress {\n\
                \x20       10.99.0.100/24 dev eth8\n\
                \x20   }\n\
                }\n";
    let path = lab.write("check.conf", text).display().to_string();
    let r = lab.vrrpd_run(1, &["-t", "-i", "r1", "-f", &path]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(
        lines,
        [
            format!(
                "{path}:8: warning: interface 'eth7' does not exist now; it counts as down (FAULT) until it appears"
            ),
            format!(
                "{path}:11: warning: interface 'eth8' does not exist now; 10.99.0.100 cannot be added on it until it appears"
            ),
            format!("{path}: configuration OK (1 instance(s))"),
        ]
    );
    // `-i` reaches the conditional lines: priority 200 is in range, a typo is an error.
    let typo = lab
        .write("typo.conf", &text.replace("priority", "priorty"))
        .display()
        .to_string();
    let r = lab.vrrpd_run(1, &["-t", "--config-id", "r1", "-f", &typo]);
    assert_eq!(r.code, Some(1), "{r:?}");
    assert!(
        r.stderr.contains(&format!(
            "{typo}:6: error: unknown keyword 'priorty' in vrrp_instance; did you mean 'priority'?"
        )),
        "{r:?}"
    );
}

#[test]
fn a_missing_pid_directory_is_created() {
    let Some(lab) = Lab::new("cpid", 1) else {
        return;
    };
    let pidfile = lab.dir().join("run/vrrpd/new/vrrpd.pid");
    let mut d = lab.vrrpd_pidfile(1, &conf(&[Vi::v3(150)]), &pidfile);
    assert!(
        wait_until(5 * S, Duration::from_millis(50), || pidfile.exists()),
        "{}",
        describe(&d)
    );
    assert!(d.wait_log("pid file directory", S), "{}", describe(&d));
    assert!(lab.wait_master(VIP, 1, 5 * S), "{}", describe(&d));
    assert_eq!(d.term(), Some(0), "{}", describe(&d));
}
