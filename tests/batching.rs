//! Issue 17: instances that share a link and an advertisement interval send in phase, so one
//! timer expiry and one sendmmsg serve them all. Instances that become master at different
//! times (here: added by a reload 0.43 s into the interval) must join the phase of those
//! running, and keep it; and the daemon's batched sends lose nothing. Gratuitous ARPs of
//! instances becoming master together leave in one sendmmsg too.

mod common;

use common::*;
use std::time::Duration;

fn vi(vrid: u8) -> Vi {
    Vi {
        name: Box::leak(format!("VI_{vrid}").into_boxed_str()),
        vrid,
        advert_int: "1",
        vips: vec![format!("10.99.0.{}/32", 100 + u32::from(vrid))],
        ..Vi::v3(255)
    }
}

#[test]
fn instances_added_later_send_in_phase() {
    let Some(lab) = Lab::new("kph", 1) else {
        return;
    };
    let first: Vec<Vi> = (1..=3).map(vi).collect();
    let d = lab.vrrpd(1, &conf(&first));
    assert!(
        d.wait_count("Entering MASTER STATE", 3, Duration::from_secs(5)),
        "{}",
        d.log()
    );
    // Out of phase on purpose: the new ones would otherwise start some 0.43 s off.
    std::thread::sleep(Duration::from_millis(430));
    let all: Vec<Vi> = (1..=6).map(vi).collect();
    std::fs::write(d.conf_path(), conf(&all)).expect("write config");
    d.hup();
    assert!(
        d.wait_count("Entering MASTER STATE", 6, Duration::from_secs(5)),
        "{}",
        d.log()
    );
    // The second advert of each new master is already on the common tick.
    std::thread::sleep(Duration::from_millis(1100));
    let cap = lab.capture("vrrp", Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(4500));
    let pcap = cap.stop();
    let rows = tshark_fields(&pcap, "vrrp", &["frame.time_epoch", "vrrp.virt_rtr_id"]);
    let times = |vrid: u8| -> Vec<f64> {
        rows.iter()
            .filter(|r| r[1] == vrid.to_string())
            .filter_map(|r| r[0].parse().ok())
            .collect()
    };
    let anchor = times(1);
    assert!(anchor.len() >= 4, "VRID 1 adverts: {rows:?}");
    for vrid in 2..=6 {
        let ts = times(vrid);
        assert!(ts.len() >= 4, "VRID {vrid}: {ts:?}");
        for t in &ts {
            // Same tick as one of VRID 1's: a generous bound against an interval of 1 s
            // (out of phase they would be some 430 ms apart).
            let off = anchor
                .iter()
                .map(|a| (a - t).abs())
                .fold(f64::INFINITY, f64::min);
            assert!(
                off < 0.05,
                "VRID {vrid} advert at {t} is {:.0} ms from VRID 1's tick: {rows:?}",
                off * 1000.0
            );
        }
    }
    let dump = d.must_dump("VI_6");
    assert!(dump.get("adverts_tx") >= 5, "{:?}", dump.fields);
}

#[test]
fn announcements_of_instances_starting_together_leave_in_one_call() {
    let Some(lab) = Lab::new("hgarp", 1) else {
        return;
    };
    let d = lab.vrrpd(1, &conf(&[vi(1)]));
    assert!(
        d.wait_log("Entering MASTER STATE", Duration::from_secs(5)),
        "{}",
        d.log()
    );
    // strace on the running daemon (a tracer from the start would stand between the test
    // and the daemon's signals), then six owners start in one turn of its loop.
    let out = lab.path("strace.txt");
    let pid = d.pid().to_string();
    let mut st = std::process::Command::new(strace())
        .args(["-f", "-qq", "-e", "trace=sendmmsg", "-o"])
        .arg(&out)
        .args(["-p", &pid])
        .spawn()
        .expect("start strace");
    std::thread::sleep(Duration::from_millis(700));
    let all: Vec<Vi> = (1..=7).map(vi).collect();
    std::fs::write(d.conf_path(), conf(&all)).expect("write config");
    d.hup();
    let ok = d.wait_count("Entering MASTER STATE", 7, Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(300));
    // SIGINT: strace detaches and leaves the daemon running.
    // SAFETY: kill(2) on a child we started; no memory is involved.
    unsafe { libc::kill(st.id() as libc::c_int, libc::SIGINT) };
    let _ = st.wait();
    assert!(ok, "{}", d.log());
    let trace = std::fs::read_to_string(&out).unwrap_or_default();
    // The first frame of each new master's burst: one call with all six, on the packet socket.
    let batched = trace.lines().any(|l| {
        l.contains("AF_PACKET")
            && l.rsplit_once("= ")
                .and_then(|(_, n)| n.trim().parse::<u32>().ok())
                .is_some_and(|n| n >= 6)
    });
    assert!(batched, "no sendmmsg of 6 frames:\n{trace}\n{}", d.log());
}
