//! Sanity checks of the test lab itself, with keepalived only: if these fail, the vrrpd tests
//! prove nothing.

mod common;

use common::*;
use std::time::Duration;

const S: Duration = Duration::from_secs(1);

#[test]
fn lab_builds_wires_and_cleans_up() {
    let names = ["vtlabsw", "vtlabr1", "vtlabr2", "vtlabcl"];
    let (inodes, pids) = {
        let Some(mut lab) = Lab::new("vtlab", 2) else {
            return;
        };
        lab.add_client();
        assert_eq!(lab.addrs(1), ["10.99.0.11/24"]);
        assert_eq!(lab.addrs(2), ["10.99.0.12/24"]);
        // r1 reaches r2 across the bridge: a TCP connect to a closed port is refused (RST).
        let r = lab.exec(1, &["bash", "-c", "exec 3<>/dev/tcp/10.99.0.12/9"]);
        assert!(r.stderr.contains("refused"), "r1 cannot reach r2: {r:?}");
        assert_eq!(lab.client_neigh("10.99.0.11"), None);
        let r = lab.client_exec(&["bash", "-c", "exec 3<>/dev/tcp/10.99.0.11/9"]);
        assert!(
            r.stderr.contains("refused"),
            "client cannot reach r1: {r:?}"
        );
        let mac = lab.client_neigh("10.99.0.11");
        assert_eq!(mac.as_deref(), Some("02:99:00:00:00:01"));
        // A daemon left running (leaked on purpose) must still die with the lab.
        let k = lab.keepalived(1, &conf(&[Vi::v3(150)]));
        assert!(lab.wait_master(VIP, 1, 5 * S), "{}", describe(&k));
        let pids = [k.pid()];
        std::mem::forget(k);
        (names.map(netns_inode), pids)
    };
    // Another run may have re-created the names since; what matters is that ours are gone.
    for (name, ino) in names.iter().zip(inodes) {
        assert!(ino.is_some(), "{name} was never created");
        assert_ne!(netns_inode(name), ino, "{name} left behind");
    }
    for p in pids {
        assert!(!process_alive(p), "pid {p} survived the lab");
    }
}

/// The identity of a named network namespace (its nsfs inode), if the name exists.
fn netns_inode(name: &str) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/run/netns/{name}"))
        .ok()
        .map(|m| m.ino())
}

#[test]
fn keepalived_pair_fails_over_and_is_captured() {
    let Some(lab) = Lab::new("vtkpa", 2) else {
        return;
    };
    let cap = lab.capture("vrrp or arp", Duration::from_secs(60));
    let mut k1 = lab.keepalived(1, &conf(&[Vi::v3(150)]));
    assert!(lab.wait_master(VIP, 1, 5 * S), "{}", describe(&k1));
    let k2 = lab.keepalived(2, &conf(&[Vi::v3(100)]));
    assert!(
        k2.wait_log("Entering BACKUP STATE", 5 * S),
        "{}",
        describe(&k2)
    );
    assert_eq!(lab.steady(VIP, &[1], S), Ok(()));
    k1.kill9();
    // A crashed master leaves its VIP behind; the backup takes over within Master_Down_Interval.
    assert!(lab.wait_holders(VIP, &[1, 2], 3 * S), "{}", describe(&k2));
    std::thread::sleep(S / 2);
    let pcap = cap.stop();
    let adverts = tshark_fields(&pcap, "vrrp", &["ip.src", "vrrp.version", "vrrp.prio"]);
    assert!(
        adverts.iter().any(|r| r == &["10.99.0.11", "3", "150"]),
        "{adverts:?}"
    );
    assert!(
        adverts.iter().any(|r| r == &["10.99.0.12", "3", "100"]),
        "{adverts:?}"
    );
    let garps = tshark_fields(
        &pcap,
        "arp.isgratuitous && arp.src.proto_ipv4 == 10.99.0.100",
        &["eth.src"],
    );
    assert!(
        garps.iter().any(|r| r == &["02:99:00:00:00:02"]),
        "{garps:?}"
    );
}

#[test]
fn keepalived_unicast_works_with_multicast_dropped() {
    let Some(lab) = Lab::new("vtkpu", 2) else {
        return;
    };
    lab.drop_multicast();
    let mut k1 = lab.keepalived(1, &conf(&[Vi::v3(150).unicast(1, &[2])]));
    assert!(lab.wait_master(VIP, 1, 5 * S), "{}", describe(&k1));
    let _k2 = lab.keepalived(2, &conf(&[Vi::v3(100).unicast(2, &[1])]));
    assert_eq!(lab.steady(VIP, &[1], 2 * S), Ok(()));
    assert_eq!(k1.term(), Some(0));
    assert!(lab.wait_master(VIP, 2, 2 * S));
}

#[test]
fn dropped_multicast_splits_a_multicast_pair() {
    let Some(lab) = Lab::new("vtkpm", 2) else {
        return;
    };
    let _k1 = lab.keepalived(1, &conf(&[Vi::v3(150)]));
    assert!(lab.wait_master(VIP, 1, 5 * S));
    let _k2 = lab.keepalived(2, &conf(&[Vi::v3(100)]));
    assert_eq!(lab.steady(VIP, &[1], S), Ok(()));
    lab.drop_multicast();
    assert!(lab.wait_holders(VIP, &[1, 2], 3 * S));
    lab.allow_multicast();
    assert!(lab.wait_master(VIP, 1, 3 * S));
}
