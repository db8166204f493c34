//! Several pure VRRP instances on a simulated LAN with delay and loss, no root and no sockets.
//! After the network settles there must be exactly one master: the highest priority, ties broken
//! by the highest primary address.

use core::time::Duration;
use std::collections::BinaryHeap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vrrpd::time::Instant;
use vrrpd::vrrp::{Action, Actions, Advert, Family, Garp, Input, Instance, Spec, State, Version};

/// xorshift64*: deterministic, good enough to pick delays and losses.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

#[derive(PartialEq, Eq)]
struct Delivery {
    at: Instant,
    seq: u64,
    to: usize,
    advert: Advert,
}
impl Ord for Delivery {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // BinaryHeap is a max-heap: earliest first, then in send order.
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}
impl PartialOrd for Delivery {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Every VRRPv3 scenario runs over both families: the core only sees addresses.
const V3S: [Version; 2] = [Version::V3(Family::V4), Version::V3(Family::V6)];

struct Lan {
    nodes: Vec<Instance>,
    alive: Vec<bool>,
    addrs: Vec<IpAddr>,
    queue: BinaryHeap<Delivery>,
    now: Instant,
    seq: u64,
    rng: Rng,
    loss_percent: u64,
    max_delay_us: u64,
    transitions: usize,
}

impl Lan {
    fn new(priorities: &[u8], interval_cs: u16, version: Version, seed: u64) -> Lan {
        // Sources are the primary addresses (IPv4) or link-locals (IPv6); they break ties.
        let addrs: Vec<IpAddr> = (0..priorities.len())
            .map(|i| match version.family() {
                Family::V4 => IpAddr::V4(Ipv4Addr::new(10, 99, 0, 11 + i as u8)),
                Family::V6 => IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 11 + i as u16)),
            })
            .collect();
        let vip = match version.family() {
            Family::V4 => IpAddr::V4(Ipv4Addr::new(10, 99, 0, 100)),
            Family::V6 => IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x100)),
        };
        let nodes = priorities
            .iter()
            .zip(&addrs)
            .map(|(&priority, &addr)| {
                let p = Spec {
                    vrid: 7,
                    version,
                    priority,
                    advert_int_cs: interval_cs,
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
                    vips: [vip].into_iter().collect(),
                    peers: heapless::Vec::new(),
                    checksum_as_v2: false,
                    strict: false,
                };
                Instance::new(p, addr)
            })
            .collect();
        Lan {
            nodes,
            alive: vec![true; priorities.len()],
            addrs,
            queue: BinaryHeap::new(),
            now: Instant::from_micros(0),
            seq: 0,
            rng: Rng(seed | 1),
            loss_percent: 0,
            max_delay_us: 2_000,
            transitions: 0,
        }
    }

    fn input(&mut self, n: usize, input: Input) {
        let mut out = Actions::new();
        self.nodes[n].handle(self.now, input, &mut out);
        for a in out {
            match a {
                Action::SendAdvert { priority } => {
                    let advert = Advert {
                        src: self.addrs[n],
                        priority,
                        interval_cs: self.nodes[n].spec().advert_int_cs,
                    };
                    for to in 0..self.nodes.len() {
                        if to == n || self.rng.chance(self.loss_percent) {
                            continue;
                        }
                        let delay = 50 + self.rng.next() % self.max_delay_us;
                        self.seq += 1;
                        let at = Instant::from_micros(self.now.as_micros() + delay);
                        self.queue.push(Delivery {
                            at,
                            seq: self.seq,
                            to,
                            advert,
                        });
                    }
                }
                Action::Transition { .. } => self.transitions += 1,
                _ => {}
            }
        }
    }

    /// Staggered boots over `spread_us`, as on a real LAN (0: all at once).
    fn start_all(&mut self, spread_us: u64) {
        for n in 0..self.nodes.len() {
            self.now = Instant::from_micros(self.rng.next() % spread_us.max(1));
            self.input(n, Input::Start);
        }
        self.now = Instant::from_micros(spread_us);
    }

    /// Advances the simulation until `until`, processing deadlines and deliveries in time order.
    fn run_until(&mut self, until: Instant) {
        loop {
            let timer = (0..self.nodes.len())
                .filter(|&n| self.alive[n])
                .filter_map(|n| self.nodes[n].next_deadline().map(|t| (t, n)))
                .min();
            let packet = self.queue.peek().map(|d| d.at);
            let next = match (timer, packet) {
                (Some((t, _)), Some(p)) => t.min(p),
                (Some((t, _)), None) => t,
                (None, Some(p)) => p,
                (None, None) => break,
            };
            if next > until {
                break;
            }
            self.now = next;
            if packet == Some(next) {
                let Some(d) = self.queue.pop() else { break };
                if self.alive[d.to] {
                    self.input(d.to, Input::Advert(d.advert));
                }
            } else if let Some((_, n)) = timer {
                self.input(n, Input::Timer);
            }
        }
        self.now = until;
    }

    fn masters(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&n| self.alive[n] && self.nodes[n].state() == State::Master)
            .collect()
    }

    fn expected_master(&self) -> usize {
        (0..self.nodes.len())
            .filter(|&n| self.alive[n])
            .max_by_key(|&n| (self.nodes[n].priority(), self.addrs[n]))
            .unwrap()
    }

    fn secs(&self, s: u64) -> Instant {
        Instant::from_micros(self.now.as_micros() + s * 1_000_000)
    }
}

fn assert_single_right_master(lan: &Lan, what: &str) {
    let m = lan.masters();
    assert_eq!(m, vec![lan.expected_master()], "{what}: masters {m:?}");
}

#[test]
fn elects_highest_priority_on_a_clean_lan() {
    for (seed, v3) in (1..20).flat_map(|s| V3S.map(|v| (s, v))) {
        let mut lan = Lan::new(&[100, 200, 150, 50, 120], 100, v3, seed);
        lan.start_all(500_000);
        let t = lan.secs(10);
        lan.run_until(t);
        assert_single_right_master(&lan, &format!("seed {seed}"));
    }
}

/// Equal priorities only meet when two routers are master at once (a backup accepts an equal
/// master, RFC 5798 §6.4.2): boot together and the highest address must win.
#[test]
fn equal_priorities_elect_the_highest_address() {
    for (seed, v3) in (1..20).flat_map(|s| V3S.map(|v| (s, v))) {
        let mut lan = Lan::new(&[100, 100, 100], 10, v3, seed);
        lan.max_delay_us = 300;
        lan.start_all(0);
        let t = lan.secs(5);
        lan.run_until(t);
        assert_single_right_master(&lan, &format!("seed {seed} {v3:?}"));
        assert_eq!(lan.masters(), vec![2]);
    }
}

#[test]
fn survives_loss_and_reordering_then_fails_over_in_order() {
    for (seed, v3) in (1..10).flat_map(|s| V3S.map(|v| (s, v))) {
        let mut lan = Lan::new(&[100, 200, 150, 50], 10, v3, seed);
        lan.loss_percent = 20;
        lan.max_delay_us = 15_000; // beyond the interval: adverts arrive reordered
        lan.start_all(500_000);
        let t = lan.secs(20);
        lan.run_until(t);
        // Heavy loss can cause short false takeovers; quiet the LAN and it must converge.
        lan.loss_percent = 0;
        lan.max_delay_us = 500;
        let t = lan.secs(3);
        lan.run_until(t);
        assert_single_right_master(&lan, &format!("seed {seed} settled"));

        // Kill masters one by one: the next best takes over each time.
        for _ in 0..3 {
            let m = lan.expected_master();
            lan.alive[m] = false;
            let t = lan.secs(3);
            lan.run_until(t);
            assert_single_right_master(&lan, &format!("seed {seed} after losing node {m}"));
        }
    }
}

#[test]
fn graceful_stop_hands_over_within_skew_time() {
    for v3 in V3S {
        graceful_stop(v3);
    }
}

fn graceful_stop(v3: Version) {
    let mut lan = Lan::new(&[200, 150, 100], 100, v3, 3);
    lan.max_delay_us = 100;
    lan.start_all(500_000);
    let t = lan.secs(10);
    lan.run_until(t);
    assert_eq!(lan.masters(), vec![0]);
    let stop_at = lan.now;
    lan.input(0, Input::Shutdown);
    lan.alive[0] = false;
    // Skew for priority 150 at 1 s is 414 ms; the 100 node waits 609 ms, so 150 wins cleanly.
    let t = Instant::from_micros(stop_at.as_micros() + 450_000);
    lan.run_until(t);
    assert_eq!(lan.masters(), vec![1]);
}

#[test]
fn v2_lan_converges_too() {
    let mut lan = Lan::new(&[100, 254, 1], 100, Version::V2, 9);
    lan.loss_percent = 10;
    lan.start_all(500_000);
    let t = lan.secs(15);
    lan.run_until(t);
    lan.loss_percent = 0;
    let t = lan.secs(5);
    lan.run_until(t);
    assert_single_right_master(&lan, "v2");
}
