//! The state machine on a simulated clock: every transition of RFC 5798 §6.4 plus Fault.

use core::time::Duration;
use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::time::Instant;

const ME: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 11));
const PEER_HI: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 12));
const PEER_LO: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 9));

fn params(priority: u8, v3: bool) -> Spec {
    Spec {
        vrid: 51,
        version: if v3 {
            Version::V3(Family::V4)
        } else {
            Version::V2
        },
        priority,
        advert_int_cs: 100,
        preempt: true,
        preempt_delay: Duration::ZERO,
        garp: Garp {
            repeat: 5,
            delay: Duration::from_secs(5),
            refresh: Duration::ZERO,
            refresh_repeat: 1,
            interval: Duration::ZERO,
            extra_addrs: 0,
            extra_if: Duration::ZERO,
        },
        auth: None,
        vips: [IpAddr::V4(Ipv4Addr::new(10, 99, 0, 100))]
            .into_iter()
            .collect(),
        peers: heapless::Vec::new(),
        checksum_as_v2: false,
        strict: false,
    }
}

fn at(ms: u64) -> Instant {
    Instant::from_micros(ms * 1000)
}

fn step(i: &mut Instance, now: Instant, input: Input) -> Actions {
    let mut out = Actions::new();
    i.handle(now, input, &mut out);
    out
}

fn advert(src: IpAddr, priority: u8, interval_cs: u16) -> Input {
    Input::Advert(Advert {
        src,
        priority,
        interval_cs,
    })
}

fn entered(out: &Actions) -> Option<State> {
    out.iter().find_map(|a| match a {
        Action::Transition { to, .. } => Some(*to),
        _ => None,
    })
}

/// Runs the timer until the instance's next deadline passes, returning that deadline's actions.
fn fire(i: &mut Instance) -> (Instant, Actions) {
    let t = i.next_deadline().expect("a deadline");
    (t, step(i, t, Input::Timer))
}

#[test]
fn backup_takes_over_after_master_down_interval_v3() {
    let mut i = Instance::new(params(100, true), ME);
    let out = step(&mut i, at(0), Input::Start);
    assert_eq!(entered(&out), Some(State::Backup));
    // Skew = 156/256 s = 609.375 ms; MDI = 3 s + skew.
    assert_eq!(i.skew_time(), Duration::from_micros(609_375));
    assert_eq!(i.next_deadline(), Some(Instant::from_micros(3_609_375)));
    let (_, out) = fire(&mut i);
    assert_eq!(
        &out[..],
        &[
            Action::Transition {
                from: State::Backup,
                to: State::Master,
                reason: Reason::MasterDown
            },
            Action::SendAdvert { priority: 100 },
            Action::AddVips,
            Action::Announce {
                first: 0,
                end: 5,
                repeat: 5
            },
        ]
    );
}

#[test]
fn v2_skew_is_in_seconds_whatever_the_interval() {
    let mut p = params(200, false);
    p.advert_int_cs = 300;
    let i = Instance::new(p, ME);
    assert_eq!(i.skew_time(), Duration::from_micros(218_750));
    assert_eq!(i.master_down_interval(), Duration::from_micros(9_218_750));
}

#[test]
fn v3_skew_scales_with_interval() {
    let mut p = params(150, true);
    p.advert_int_cs = 10;
    let i = Instance::new(p, ME);
    // (256-150)/256 × 100 ms = 41.40625 ms
    assert_eq!(i.skew_time(), Duration::from_nanos(41_406_250));
}

#[test]
fn garp_extra_if_announces_the_links_while_master_only() {
    let mut spec = params(255, true);
    spec.garp.delay = Duration::ZERO;
    spec.garp.extra_if = Duration::from_secs(10);
    let mut i = Instance::new(spec, ME);
    let out = step(&mut i, at(0), Input::Start);
    assert!(!out.contains(&Action::AnnounceLinks), "{out:?}");
    let links = |i: &mut Instance, until: u64| {
        let mut seen = Vec::new();
        while let Some(t) = i.next_deadline().filter(|&t| t <= at(until)) {
            if step(i, t, Input::Timer).contains(&Action::AnnounceLinks) {
                seen.push(t);
            }
        }
        seen
    };
    // Every 10 s from becoming master, between the adverts.
    assert_eq!(links(&mut i, 35_000), [at(10_000), at(20_000), at(30_000)]);
    // Not after leaving.
    step(&mut i, at(35_000), Input::Shutdown);
    assert_eq!(links(&mut i, 60_000), Vec::<Instant>::new());
}

#[test]
fn excluded_addresses_are_announced_after_the_vips() {
    let mut spec = params(255, true);
    spec.garp.extra_addrs = 2;
    let mut i = Instance::new(spec, ME);
    let out = step(&mut i, at(0), Input::Start);
    // One VIP and two excluded addresses, five frames each.
    assert!(out.contains(&Action::Announce {
        first: 0,
        end: 15,
        repeat: 5
    }));
}

#[test]
fn owner_becomes_master_at_once() {
    let mut i = Instance::new(params(255, true), ME);
    let out = step(&mut i, at(0), Input::Start);
    assert_eq!(entered(&out), Some(State::Master));
    assert!(out.contains(&Action::SendAdvert { priority: 255 }));
    assert!(out.contains(&Action::AddVips));
}

#[test]
fn master_advertises_every_interval_and_repeats_garp_after_delay() {
    let mut i = Instance::new(params(255, true), ME);
    step(&mut i, at(0), Input::Start);
    let mut adverts = 0;
    let mut garps = 0;
    while let Some(t) = i.next_deadline() {
        if t > at(6_000) {
            break;
        }
        let out = step(&mut i, t, Input::Timer);
        adverts += out
            .iter()
            .filter(|a| matches!(a, Action::SendAdvert { .. }))
            .count();
        garps += out
            .iter()
            .filter(|a| matches!(a, Action::Announce { .. }))
            .count();
    }
    assert_eq!(adverts, 6); // at 1..=6 s
    assert_eq!(garps, 1); // the second burst at 5 s; no refresh configured
}

#[test]
fn late_wake_ups_do_not_stretch_the_advert_cadence() {
    let mut i = Instance::new(params(255, true), ME);
    step(&mut i, at(0), Input::Start);
    // Woken 3 ms late for the advert due at 1 s: the next one is still due at 2 s.
    assert_eq!(i.next_deadline(), Some(at(1_000)));
    let out = step(&mut i, at(1_003), Input::Timer);
    assert!(out.contains(&Action::SendAdvert { priority: 255 }));
    assert_eq!(i.next_deadline(), Some(at(2_000)));
    // A stall longer than an interval restarts the cadence from now: no catch-up burst.
    let out = step(&mut i, at(3_500), Input::Timer);
    assert_eq!(
        out.iter()
            .filter(|a| matches!(a, Action::SendAdvert { .. }))
            .count(),
        1
    );
    assert_eq!(i.next_deadline(), Some(at(4_500)));
}

#[test]
fn backup_hearing_master_resets_timer_and_learns_interval_v3() {
    let mut i = Instance::new(params(100, true), ME);
    step(&mut i, at(0), Input::Start);
    let out = step(&mut i, at(2_000), advert(PEER_HI, 150, 50));
    assert!(out.is_empty());
    assert_eq!(i.master_adver_int_cs(), 50);
    // MDI = 3 × 0.5 s + 156/256 × 0.5 s = 1.8046875 s
    assert_eq!(
        i.next_deadline(),
        Some(at(2_000) + Duration::from_micros(1_804_687))
    );
}

#[test]
fn v2_backup_keeps_its_own_interval() {
    let mut i = Instance::new(params(100, false), ME);
    step(&mut i, at(0), Input::Start);
    step(&mut i, at(500), advert(PEER_HI, 150, 100));
    assert_eq!(i.master_adver_int_cs(), 100);
}

#[test]
fn backup_with_preempt_ignores_lower_master_and_takes_over() {
    let mut i = Instance::new(params(150, true), ME);
    step(&mut i, at(0), Input::Start);
    let deadline = i.next_deadline();
    for k in 1..4 {
        step(&mut i, at(k * 1000), advert(PEER_LO, 100, 100));
    }
    assert_eq!(
        i.next_deadline(),
        deadline,
        "lower-priority adverts must not reset the timer"
    );
    let (_, out) = fire(&mut i);
    assert_eq!(entered(&out), Some(State::Master));
}

#[test]
fn nopreempt_backup_stays_under_lower_master() {
    let mut p = params(150, true);
    p.preempt = false;
    let mut i = Instance::new(p, ME);
    step(&mut i, at(0), Input::Start);
    for k in 1..20 {
        let out = step(&mut i, at(k * 1000), advert(PEER_LO, 100, 100));
        assert!(out.is_empty());
        assert!(i.next_deadline().unwrap() > at(k * 1000 + 3000));
    }
    assert_eq!(i.state(), State::Backup);
}

#[test]
fn preempt_delay_holds_off_preemption_for_the_delay() {
    let mut p = params(150, true);
    p.preempt_delay = Duration::from_secs(10);
    let mut i = Instance::new(p, ME);
    step(&mut i, at(0), Input::Start);
    let mut became_master_at = None;
    let mut now = 0;
    while now < 30_000 && became_master_at.is_none() {
        now += 1000;
        // Fire any deadline that falls before the next advert.
        while let Some(t) = i.next_deadline().filter(|t| *t <= at(now)) {
            if entered(&step(&mut i, t, Input::Timer)) == Some(State::Master) {
                became_master_at = Some(t);
            }
        }
        if became_master_at.is_none() {
            step(&mut i, at(now), advert(PEER_LO, 100, 100));
        }
    }
    let t = became_master_at.expect("preempts in the end");
    // First lower advert at 1 s; held until 11 s; then Master_Down (3.41 s) after the last accepted.
    assert!(t > at(11_000) && t < at(15_000), "took over at {t:?}");
}

#[test]
fn priority_zero_makes_backup_take_over_after_skew() {
    let mut i = Instance::new(params(100, true), ME);
    step(&mut i, at(0), Input::Start);
    step(&mut i, at(1_000), advert(PEER_HI, 150, 100));
    step(&mut i, at(1_500), advert(PEER_HI, 0, 100));
    assert_eq!(
        i.next_deadline(),
        Some(at(1_500) + Duration::from_micros(609_375))
    );
    let (_, out) = fire(&mut i);
    assert_eq!(entered(&out), Some(State::Master));
}

#[test]
fn master_yields_to_higher_priority() {
    let mut i = Instance::new(params(255, true), ME);
    step(&mut i, at(0), Input::Start);
    // An owner only yields on a tie with a higher address.
    let out = step(&mut i, at(500), advert(PEER_HI, 255, 100));
    assert_eq!(entered(&out), Some(State::Backup));
    assert!(out.contains(&Action::RemoveVips));
    assert!(!out.iter().any(|a| matches!(a, Action::SendAdvert { .. })));

    let mut i = Instance::new(params(100, true), ME);
    step(&mut i, at(0), Input::Start);
    fire(&mut i);
    let out = step(&mut i, at(5_000), advert(PEER_LO, 200, 100));
    assert_eq!(out[0], Action::RemoveVips,);
    assert_eq!(
        out[1],
        Action::Transition {
            from: State::Master,
            to: State::Backup,
            reason: Reason::HigherPriority {
                src: PEER_LO,
                theirs: 200,
                ours: 100
            }
        }
    );
}

#[test]
fn master_keeps_role_against_equal_priority_lower_address_and_answers_once() {
    let mut i = Instance::new(params(100, true), ME);
    step(&mut i, at(0), Input::Start);
    fire(&mut i);
    let out = step(&mut i, at(4_000), advert(PEER_LO, 100, 100));
    assert_eq!(i.state(), State::Master);
    assert!(out.contains(&Action::SendAdvert { priority: 100 }));
    assert!(out.iter().any(|a| matches!(a, Action::Announce { .. })));
    let out = step(&mut i, at(4_100), advert(PEER_LO, 100, 100));
    assert!(out.is_empty(), "at most one answer per interval");
}

#[test]
fn strict_master_discards_a_lower_masters_adverts() {
    let spec = Spec {
        strict: true,
        ..params(100, true)
    };
    let mut i = Instance::new(spec, ME);
    step(&mut i, at(0), Input::Start);
    fire(&mut i);
    let out = step(&mut i, at(4_000), advert(PEER_LO, 100, 100));
    assert_eq!(i.state(), State::Master);
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn shutdown_of_master_sends_priority_zero_and_removes_vips() {
    let mut i = Instance::new(params(255, true), ME);
    step(&mut i, at(0), Input::Start);
    let out = step(&mut i, at(100), Input::Shutdown);
    assert_eq!(
        &out[..],
        &[
            Action::SendAdvert { priority: 0 },
            Action::RemoveVips,
            Action::Transition {
                from: State::Master,
                to: State::Init,
                reason: Reason::Shutdown
            },
        ]
    );
    assert_eq!(i.next_deadline(), None);
}

#[test]
fn link_down_faults_and_link_up_returns_to_backup() {
    let mut i = Instance::new(params(255, true), ME);
    step(&mut i, at(0), Input::Start);
    let out = step(&mut i, at(100), Input::Fault(Some(Fault::Link)));
    assert_eq!(entered(&out), Some(State::Fault));
    assert!(out.contains(&Action::RemoveVips));
    assert_eq!(i.next_deadline(), None);
    assert!(step(&mut i, at(200), advert(PEER_HI, 200, 100)).is_empty());
    let out = step(&mut i, at(300), Input::Fault(None));
    assert_eq!(entered(&out), Some(State::Master)); // owner

    let mut i = Instance::new(params(100, true), ME);
    step(&mut i, at(0), Input::Fault(Some(Fault::Link)));
    let out = step(&mut i, at(0), Input::Start);
    assert_eq!(entered(&out), Some(State::Fault));
    let out = step(&mut i, at(100), Input::Fault(None));
    assert_eq!(entered(&out), Some(State::Backup));
}

#[test]
fn adverts_in_init_and_fault_change_nothing() {
    let mut i = Instance::new(params(100, true), ME);
    assert!(step(&mut i, at(0), advert(PEER_HI, 200, 100)).is_empty());
    assert_eq!(i.state(), State::Init);
    assert_eq!(i.next_deadline(), None);
}

#[test]
fn master_advertises_a_changed_priority_at_once() {
    let mut i = Instance::new(params(255, true), ME);
    step(&mut i, at(0), Input::Start);
    assert_eq!(i.state(), State::Master);
    let out = step(&mut i, at(300), Input::Priority(90));
    assert_eq!(&out[..], &[Action::SendAdvert { priority: 90 }]);
    // The cadence restarts from that advert.
    assert_eq!(i.next_deadline(), Some(at(1300)));
    // The same priority again says nothing new.
    assert!(step(&mut i, at(400), Input::Priority(90)).is_empty());
    // A backup only takes the new priority to its next advert, if it becomes master.
    let mut b = Instance::new(params(100, true), ME);
    step(&mut b, at(0), Input::Start);
    assert!(step(&mut b, at(10), Input::Priority(50)).is_empty());
}

/// Adverts a master sent in `out`.
fn adverts(out: &Actions) -> usize {
    out.iter()
        .filter(|a| matches!(a, Action::SendAdvert { .. }))
        .count()
}

#[test]
fn master_answers_priority_zero_at_once_but_once_per_interval() {
    let mut i = Instance::new(params(255, true), ME);
    step(&mut i, at(0), Input::Start);
    // The RFC's immediate answer to a leaving master…
    let out = step(&mut i, at(450), advert(PEER_HI, 0, 100));
    assert_eq!(&out[..], &[Action::SendAdvert { priority: 255 }]);
    // …but a stream of them (here 5000/s for 3 s) gets one answer per interval, and the
    // scheduled adverts keep their cadence.
    let mut sent = 0;
    let mut t = 450_000u64;
    while t < 3_450_000 {
        t += 200;
        let now = Instant::from_micros(t);
        if i.next_deadline().is_some_and(|d| d <= now) {
            sent += adverts(&step(&mut i, now, Input::Timer));
        }
        sent += adverts(&step(&mut i, now, advert(PEER_HI, 0, 100)));
    }
    assert_eq!(i.state(), State::Master);
    // 3 s at a 1 s interval: 3 answers and 3 scheduled adverts at most.
    assert!(
        sent <= 6,
        "{sent} adverts in 3 s under 15000 priority-0 adverts"
    );
}

#[test]
fn answers_to_lesser_masters_and_to_priority_zero_share_one_budget() {
    let mut i = Instance::new(params(200, true), ME);
    step(&mut i, at(0), Input::Start);
    fire(&mut i);
    assert_eq!(i.state(), State::Master);
    let out = step(&mut i, at(4_000), advert(PEER_LO, 0, 100));
    assert_eq!(adverts(&out), 1);
    let out = step(&mut i, at(4_100), advert(PEER_LO, 100, 100));
    assert!(
        out.is_empty(),
        "a second answer within the interval: {out:?}"
    );
    let out = step(&mut i, at(5_100), advert(PEER_LO, 100, 100));
    assert_eq!(adverts(&out), 1);
}

#[test]
fn master_without_a_source_address_faults_and_returns_when_one_is_back() {
    let mut i = Instance::new(params(200, false), ME);
    step(&mut i, at(0), Input::Start);
    fire(&mut i);
    assert_eq!(i.state(), State::Master);
    // The address goes: FAULT, VIPs removed, and no priority-0 advert it has nothing to send from.
    let out = step(&mut i, at(5_000), Input::Fault(Some(Fault::Source)));
    assert_eq!(
        &out[..],
        &[
            Action::RemoveVips,
            Action::Transition {
                from: State::Master,
                to: State::Fault,
                reason: Reason::Fault(Fault::Source)
            },
        ]
    );
    assert_eq!(i.next_deadline(), None, "no adverts without an address");
    assert!(step(&mut i, at(5_500), advert(PEER_HI, 250, 100)).is_empty());
    // Another address: back as from Init, and it breaks ties from now on.
    step(&mut i, at(7_000), Input::Primary(PEER_LO));
    let out = step(&mut i, at(7_000), Input::Fault(None));
    assert_eq!(
        out[0],
        Action::Transition {
            from: State::Fault,
            to: State::Backup,
            reason: Reason::Recovered(Fault::Source)
        }
    );
    let (_, out) = fire(&mut i);
    assert_eq!(entered(&out), Some(State::Master));
    let between = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 10));
    let out = step(&mut i, at(20_000), advert(between, 200, 100));
    assert_eq!(entered(&out), Some(State::Backup));

    // Without an address from the start, even an owner stays in FAULT.
    let mut o = Instance::new(params(255, true), ME);
    step(&mut o, at(0), Input::Fault(Some(Fault::Source)));
    let out = step(&mut o, at(0), Input::Start);
    assert_eq!(entered(&out), Some(State::Fault));
    assert!(!out.contains(&Action::AddVips));
}

#[test]
fn fault_causes_rank_link_then_source_then_trackers() {
    assert_eq!(Fault::first_of(false, false, false), None);
    assert_eq!(Fault::first_of(true, true, true), Some(Fault::Link));
    assert_eq!(Fault::first_of(false, true, true), Some(Fault::Source));
    assert_eq!(Fault::first_of(false, false, true), Some(Fault::Track));
}

fn reconfigure(i: &mut Instance, now: Instant, spec: Spec) -> Actions {
    let mut out = Actions::new();
    i.reconfigure(now, spec, &mut out);
    out
}

#[test]
fn reconfigure_keeps_the_state_and_applies_a_new_interval_from_now() {
    let mut i = Instance::new(params(150, true), ME);
    step(&mut i, at(0), Input::Start);
    let (t, _) = fire(&mut i);
    assert_eq!(i.state(), State::Master);
    // 1 s → 0.2 s: the next advert within 0.2 s of the change, then every 0.2 s.
    let changed = t + Duration::from_millis(300);
    let faster = Spec {
        advert_int_cs: 20,
        preempt: false,
        ..params(150, true)
    };
    assert!(reconfigure(&mut i, changed, faster.clone()).is_empty());
    assert_eq!(i.state(), State::Master);
    assert_eq!(i.spec(), &faster);
    assert_eq!(
        i.next_deadline(),
        Some(changed + Duration::from_millis(200))
    );
    let (t2, out) = fire(&mut i);
    assert_eq!(&out[..], &[Action::SendAdvert { priority: 150 }]);
    assert_eq!(i.next_deadline(), Some(t2 + Duration::from_millis(200)));
    // Nothing about the interval changed: nothing moves.
    let before = i.next_deadline();
    assert!(reconfigure(&mut i, t2, faster.clone()).is_empty());
    assert_eq!(i.next_deadline(), before);

    // A VIP more: still master, and every VIP is announced again (5 frames each).
    let mut more = faster;
    more.vips
        .push(IpAddr::V4(Ipv4Addr::new(10, 99, 0, 101)))
        .expect("room");
    let out = reconfigure(&mut i, t2, more);
    assert_eq!(
        &out[..],
        &[Action::Announce {
            first: 0,
            end: 10,
            repeat: 5
        }]
    );
    assert_eq!(i.state(), State::Master);

    // A v2 backup times out by its new (shorter) interval.
    let mut b = Instance::new(params(100, false), ME);
    step(&mut b, at(0), Input::Start);
    let shorter = Spec {
        advert_int_cs: 50,
        ..params(100, false)
    };
    assert!(reconfigure(&mut b, at(1_000), shorter).is_empty());
    // 3 × 0.5 s + (256-100)/256 s.
    assert_eq!(
        b.next_deadline(),
        Some(at(1_000) + Duration::from_millis(1_500) + Duration::from_micros(609_375))
    );
    assert_eq!(b.state(), State::Backup);
}

/// Issue 17: masters of one link and interval send in phase, so one timer expiry and one
/// sendmmsg serve them all. A new master joins the phase of one already running.
#[test]
fn a_new_master_joins_the_phase_of_one_running() {
    let mut a = Instance::new(params(255, true), ME);
    let mut b = Instance::new(
        Spec {
            vrid: 52,
            ..params(255, true)
        },
        ME,
    );
    step(&mut a, at(0), Input::Start);
    a.join_phase(at(0), None); // the first of its kind keeps its own phase
    assert!(!a.wants_phase());
    assert_eq!(a.next_advert(), Some(at(1_000)));
    // B becomes master 370 ms later: its first advert goes at once, as the RFC asks…
    let out = step(&mut b, at(370), Input::Start);
    assert_eq!(adverts(&out), 1);
    assert!(b.wants_phase());
    // …and its second on A's tick, 630 ms later: sooner than an interval, never later.
    b.join_phase(at(370), a.next_advert());
    assert!(!b.wants_phase());
    assert_eq!(b.next_advert(), Some(at(1_000)));
    // From there on they are due together, and a late wake-up keeps both cadences.
    for (now, next) in [(1_000, 2_000), (2_004, 3_000), (3_000, 4_000)] {
        for i in [&mut a, &mut b] {
            assert_eq!(i.next_deadline(), Some(at(now - now % 1_000)));
            assert_eq!(adverts(&step(i, at(now), Input::Timer)), 1);
            assert_eq!(i.next_advert(), Some(at(next)));
            assert!(!i.wants_phase(), "the cadence keeps the phase");
        }
    }
    // An advert out of turn (a new priority) goes at once and then rejoins the phase.
    let out = step(&mut b, at(4_250), Input::Priority(254));
    assert_eq!(adverts(&out), 1);
    assert!(b.wants_phase());
    // The anchor may be a deadline already due but not yet handled this tick.
    b.join_phase(at(4_250), Some(at(4_000)));
    assert_eq!(b.next_advert(), Some(at(5_000)));
}

#[test]
fn joining_a_phase_only_ever_shortens_one_gap() {
    // Over anchors before, at and after now: the next advert lands after now, no later than
    // one interval, on the anchor's grid.
    for now_ms in [0u64, 7, 999, 1_000, 12_345] {
        for anchor_ms in [0u64, 1, 500, 999, 1_000, 3_001, 20_000] {
            let mut i = Instance::new(params(255, true), ME);
            step(&mut i, at(now_ms), Input::Start);
            i.join_phase(at(now_ms), Some(at(anchor_ms)));
            let t = i.next_advert().expect("master").as_micros() / 1000;
            assert!(
                t > now_ms && t <= now_ms + 1_000,
                "{now_ms} {anchor_ms} -> {t}"
            );
            assert_eq!(t % 1_000, anchor_ms % 1_000, "{now_ms} {anchor_ms} -> {t}");
        }
    }
    // A backup has no advert to move: its Master_Down timer is untouched.
    let mut b = Instance::new(params(100, true), ME);
    step(&mut b, at(0), Input::Start);
    let down = b.next_deadline();
    assert!(!b.wants_phase());
    b.join_phase(at(10), Some(at(500)));
    assert_eq!(b.next_deadline(), down);
}
