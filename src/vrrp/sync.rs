//! Sync groups, pure: the members of a `vrrp_sync_group` change state together, so a router's
//! LAN and WAN addresses never end up on different routers.
//!
//! Three rules, applied by the daemon:
//! - FAULT: if any member is faulty on its own (link down, tracker failed), every member is held
//!   in FAULT ([`group_fault`], fed as `Input::Fault`); when none is, all come back.
//! - MASTER: a member that becomes master takes its backup siblings with it (`Input::SyncMaster`).
//! - BACKUP: a master that falls back to backup takes its master siblings with it
//!   (`Input::SyncBackup`); they send priority 0 as they go, so the other router's members
//!   take over their links without waiting out Master_Down_Interval.
//!
//! Each rule only moves siblings that are in the state being left, so following a follower
//! changes nothing and propagation stops after one step.

use super::instance::{Input, State};

/// Whether the group must sit in FAULT, given each member's own fault.
pub fn group_fault(own_faults: impl IntoIterator<Item = bool>) -> bool {
    own_faults.into_iter().any(|f| f)
}

/// The input a sibling in state `sibling` needs after a member went from `from` to `to`.
pub fn follow(from: State, to: State, sibling: State) -> Option<Input> {
    match (from, to, sibling) {
        (f, State::Master, State::Backup) if f != State::Master => Some(Input::SyncMaster),
        (State::Master, State::Backup, State::Master) => Some(Input::SyncBackup),
        _ => None,
    }
}

/// The group's own state, for its notify scripts: the state its members last moved to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupState {
    state: Option<State>,
}

impl GroupState {
    pub fn get(&self) -> Option<State> {
        self.state
    }

    /// A member entered `to`. Returns the group's new state when it changed, so the group's
    /// scripts run once per group transition rather than once per member.
    pub fn member_entered(&mut self, to: State) -> Option<State> {
        if self.state == Some(to) {
            return None;
        }
        self.state = Some(to);
        Some(to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Instant;
    use crate::vrrp::instance::{Action, Actions, Fault, Instance};
    use crate::vrrp::{Family, Garp, Spec, Version};
    use core::time::Duration;
    use std::net::{IpAddr, Ipv4Addr};

    #[test]
    fn rules() {
        use State::*;
        assert_eq!(follow(Backup, Master, Backup), Some(Input::SyncMaster));
        assert_eq!(follow(Init, Master, Backup), Some(Input::SyncMaster));
        assert_eq!(follow(Backup, Master, Master), None);
        assert_eq!(follow(Backup, Master, Fault), None);
        assert_eq!(follow(Master, Backup, Master), Some(Input::SyncBackup));
        assert_eq!(follow(Master, Backup, Backup), None);
        assert_eq!(follow(Master, Backup, Fault), None);
        // FAULT travels through group_fault, not through follow.
        assert_eq!(follow(Master, Fault, Master), None);
        assert_eq!(follow(Fault, Backup, Master), None);
        assert_eq!(follow(Master, Init, Master), None);
        assert!(!group_fault([false, false]));
        assert!(group_fault([false, true]));
        assert!(!group_fault([]));
    }

    #[test]
    fn group_state_reports_changes_once() {
        let mut g = GroupState::default();
        assert_eq!(g.get(), None);
        assert_eq!(g.member_entered(State::Backup), Some(State::Backup));
        assert_eq!(g.member_entered(State::Backup), None);
        assert_eq!(g.member_entered(State::Master), Some(State::Master));
        assert_eq!(g.member_entered(State::Master), None);
        assert_eq!(g.member_entered(State::Fault), Some(State::Fault));
        assert_eq!(g.get(), Some(State::Fault));
    }

    fn params(vrid: u8, priority: u8) -> Spec {
        Spec {
            vrid,
            version: Version::V3(Family::V4),
            priority,
            advert_int_cs: 100,
            preempt: true,
            preempt_delay: Duration::ZERO,
            garp: Garp {
                repeat: 1,
                delay: Duration::ZERO,
                refresh: Duration::ZERO,
                refresh_repeat: 1,
                interval: Duration::ZERO,
                extra_addrs: 0,
                extra_if: Duration::ZERO,
            },
            auth: None,
            vips: heapless::Vec::new(),
            peers: heapless::Vec::new(),
            checksum_as_v2: false,
            strict: false,
        }
    }

    /// A two-member group on one router, driven the way the daemon drives it.
    struct Pair {
        m: [Instance; 2],
        own_fault: [bool; 2],
        link_down: [bool; 2],
    }

    impl Pair {
        fn new() -> Pair {
            let me = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 1));
            Pair {
                m: [
                    Instance::new(params(1, 100), me),
                    Instance::new(params(2, 100), me),
                ],
                own_fault: [false; 2],
                link_down: [false; 2],
            }
        }

        /// Feeds `input` to member `k` and then what the sync rules derive from it.
        fn feed(&mut self, now: Instant, k: usize, input: Input) {
            let mut out = Actions::new();
            self.m[k].handle(now, input, &mut out);
            for a in out {
                if let Action::Transition { from, to, .. } = a {
                    let j = 1 - k;
                    if let Some(i) = follow(from, to, self.m[j].state()) {
                        self.feed(now, j, i);
                    }
                }
            }
        }

        /// As the daemon's `track_apply`: the link first, then trackers and the group.
        fn refresh_fault(&mut self, now: Instant) {
            let g = group_fault((0..2).map(|k| self.own_fault[k] || self.link_down[k]));
            for k in 0..2 {
                let want = if self.link_down[k] {
                    Some(Fault::Link)
                } else if self.own_fault[k] || g {
                    Some(Fault::Track)
                } else {
                    None
                };
                if self.m[k].fault() != want {
                    self.feed(now, k, Input::Fault(want));
                }
            }
        }

        fn states(&self) -> [State; 2] {
            [self.m[0].state(), self.m[1].state()]
        }
    }

    #[test]
    fn track_fault_acts_like_a_down_link() {
        use State::*;
        let t = |s: u64| Instant::from_micros(s * 1_000_000);
        let mut i = Instance::new(params(1, 100), IpAddr::V4(Ipv4Addr::new(10, 99, 0, 1)));
        let mut out = Actions::new();
        let track = Input::Fault(Some(crate::vrrp::Fault::Track));
        // Faulty before it starts: it starts in FAULT.
        i.handle(t(0), track, &mut out);
        i.handle(t(0), Input::Start, &mut out);
        assert_eq!(i.state(), Fault);
        i.handle(t(1), Input::Fault(None), &mut out);
        assert_eq!(i.state(), Backup);
        i.handle(t(10), Input::Timer, &mut out);
        assert_eq!(i.state(), Master);

        // From MASTER: priority 0 goes out and the addresses go away, as for a down link.
        out.clear();
        i.handle(t(11), track, &mut out);
        assert_eq!(i.state(), Fault);
        assert!(out.contains(&Action::SendAdvert { priority: 0 }));
        assert!(out.contains(&Action::RemoveVips));
        assert_eq!(i.next_deadline(), None);

        // A change of cause keeps it in FAULT; only no cause at all brings it back.
        out.clear();
        i.handle(
            t(12),
            Input::Fault(Some(crate::vrrp::Fault::Link)),
            &mut out,
        );
        i.handle(t(13), track, &mut out);
        assert_eq!(i.state(), Fault);
        assert!(out.is_empty(), "{out:?}");
        i.handle(t(16), Input::Fault(None), &mut out);
        assert_eq!(i.state(), Backup);

        // Sync inputs only move the state they name.
        i.handle(t(17), Input::SyncBackup, &mut out);
        assert_eq!(i.state(), Backup);
        i.handle(t(17), Input::SyncMaster, &mut out);
        assert_eq!(i.state(), Master);
        i.handle(t(18), Input::SyncMaster, &mut out);
        assert_eq!(i.state(), Master);
        out.clear();
        i.handle(t(19), Input::SyncBackup, &mut out);
        assert_eq!(i.state(), Backup);
        // Stepping down for the group tells this link's backups to take over at once.
        assert_eq!(out[0], Action::SendAdvert { priority: 0 });
        assert!(out.contains(&Action::RemoveVips));
        assert!(i.next_deadline().is_some(), "listens for a master again");
    }

    #[test]
    fn members_move_together() {
        use State::*;
        let t = |s: u64| Instant::from_micros(s * 1_000_000);
        let mut p = Pair::new();
        p.feed(t(0), 0, Input::Start);
        p.feed(t(0), 1, Input::Start);
        assert_eq!(p.states(), [Backup, Backup]);

        // Member 0's master-down timer fires first: member 1 follows to MASTER at once.
        p.feed(t(10), 0, Input::Timer);
        assert_eq!(p.states(), [Master, Master]);

        // A better router appears on member 1's link: both fall back.
        let better = crate::vrrp::Advert {
            src: IpAddr::V4(Ipv4Addr::new(10, 99, 0, 2)),
            priority: 200,
            interval_cs: 100,
        };
        p.feed(t(11), 1, Input::Advert(better));
        assert_eq!(p.states(), [Backup, Backup]);

        // Member 1's tracker fails: both go to FAULT; it recovers: both come back as BACKUP.
        p.own_fault[1] = true;
        p.refresh_fault(t(12));
        assert_eq!(p.states(), [Fault, Fault]);
        p.own_fault[1] = false;
        p.refresh_fault(t(13));
        assert_eq!(p.states(), [Backup, Backup]);

        // From MASTER as well: a fault on one takes the other out of MASTER.
        p.feed(t(30), 1, Input::Timer);
        assert_eq!(p.states(), [Master, Master]);
        p.own_fault[0] = true;
        p.refresh_fault(t(31));
        assert_eq!(p.states(), [Fault, Fault]);
        // A down link on member 1 meanwhile keeps both in FAULT after the tracker recovers.
        p.link_down[1] = true;
        p.own_fault = [false, false];
        p.refresh_fault(t(33));
        assert_eq!(p.states(), [Fault, Fault]);
        p.link_down[1] = false;
        p.refresh_fault(t(34));
        assert_eq!(p.states(), [Backup, Backup]);
    }
}
