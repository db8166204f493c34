//! A classic BPF socket filter that queues only the VRRP we run: the VRIDs configured on the
//! link and, for a VRRPv2 instance with PASS authentication, the right password. Everything
//! else is dropped by the kernel before it takes a place in the socket's queue, so a flood of
//! other VRIDs or wrong passwords cannot push a live master's adverts out of a starved
//! backup's queue, and costs the daemon no wake-ups.
//!
//! The kernel keeps no count of what a socket filter rejects (the socket's drop counter,
//! SO_RXQ_OVFL, counts only a full queue), and a peer with a wrong password or VRID is an
//! operator's problem to see (split brain). So the filter lets a random 1 in [`SAMPLE`] of all
//! packets through unchecked: the daemon counts and logs those it would drop through its usual
//! checks, which refuse them again, so a sample never changes state.
//!
//! The program is built from the VRID list by [`program`], a pure function, and attached with
//! [`attach`]. The IPv4 raw socket sees the IP header in front of the VRRP message, an IPv6
//! one only the message ([`Start`]).

use std::io;
use std::os::fd::AsRawFd;

use super::os;
use crate::wire::vrrp::{AUTH_DATA_LEN, HEADER_LEN};

/// One classic BPF instruction, as `struct sock_filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// Instruction classes, sizes, modes and operations (linux/bpf_common.h).
pub mod op {
    pub const LD: u16 = 0x00;
    pub const LDX: u16 = 0x01;
    pub const ALU: u16 = 0x04;
    pub const JMP: u16 = 0x05;
    pub const RET: u16 = 0x06;
    pub const MISC: u16 = 0x07;
    pub const W: u16 = 0x00;
    pub const B: u16 = 0x10;
    pub const IMM: u16 = 0x00;
    pub const ABS: u16 = 0x20;
    pub const IND: u16 = 0x40;
    pub const MSH: u16 = 0xa0;
    pub const ADD: u16 = 0x00;
    pub const LSH: u16 = 0x60;
    pub const JEQ: u16 = 0x10;
    pub const JSET: u16 = 0x40;
    pub const K: u16 = 0x00;
    pub const X: u16 = 0x08;
    pub const TAX: u16 = 0x00;
}

/// Where the VRRP message starts in what the socket receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// After an IPv4 header of the length its IHL field says (IPv4 raw sockets).
    AfterIpv4Header,
    /// At byte 0 (IPv6 raw sockets hand over the payload only).
    Payload,
}

/// What the filter lets through for one VRID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub vrid: u8,
    /// VRRPv2 PASS: the 8 bytes the authentication data must hold.
    pub pass: Option<[u8; AUTH_DATA_LEN]>,
}

/// `ret #ACCEPT` keeps the whole packet; `ret #0` drops it.
pub const ACCEPT: u32 = u32::MAX;

/// `ld [AD_RANDOM]` loads a random word instead of packet bytes (SKF_AD_OFF + SKF_AD_RANDOM).
pub const AD_RANDOM: u32 = (libc::SKF_AD_OFF + libc::SKF_AD_RANDOM) as u32;

/// One packet in `SAMPLE` passes the filter unchecked. A power of two, so that the low bits of
/// the kernel's uniform random word (`ld rand`, SKF_AD_RANDOM) pick exactly 1 in `SAMPLE` with
/// one `jset`, without a `mod`. 256: the ~250k packets/s one flooding host sends here reach a
/// 1 % CPU backup at ~1k/s, which its queue absorbs between the time slices it gets (no
/// overflow in `tests/hostile.rs`; at 64, ~4k/s overflowed it, lost adverts and made it take
/// over in 2 of 3 runs), while a misconfigured peer at `advert_int 1` is seen after about four
/// minutes on average (256 s; 95 % within 13 minutes).
pub const SAMPLE: u32 = 256;

/// The most instructions [`program`] emits: three to sample, two, one per VRID, a block of at
/// most ten per password, one.
pub const MAX_INSNS: usize = 3 + 2 + 256 + 10 * 256 + 1;

pub type Program = heapless::Vec<Insn, MAX_INSNS>;

const fn stmt(code: u16, k: u32) -> Insn {
    Insn {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

const fn jeq(k: u32, jt: u8, jf: u8) -> Insn {
    Insn {
        code: op::JMP | op::JEQ | op::K,
        jt,
        jf,
        k,
    }
}

/// Builds the filter for the VRIDs in `rules` (each at most once; a link has one instance per
/// VRID). VRIDs that want the same password (or none) share one block, so the usual link, all
/// instances with one password, costs one comparison per VRID and one block:
///
/// ```text
///       A = random; if A & (SAMPLE - 1) == 0 accept   ; the sample, before any load can fail
///       X = start of the VRRP message
///       A = byte [X + 1]                        ; the VRID
///   for each password (or none):
///       if A is one of its VRIDs goto block, else goto next password
///   block (no password): accept
///   block (password):    X += 8 + 4 * byte [X + 3]  ; the auth data, after Count addresses
///                        if word [X] != pass[0..4] drop
///                        if word [X + 4] != pass[4..8] drop
///                        accept
///   drop
/// ```
///
/// Jumps are 8 bits: a chain of at most 256 VRIDs always reaches its block. A packet too short
/// for a load is dropped by the kernel (a classic BPF load past the end returns 0), so a
/// truncated advert reaches us only as part of the sample, taken before any load.
pub fn program(start: Start, rules: &[Rule]) -> Program {
    let mut p = Program::new();
    let mut emit = |i: Insn| {
        // MAX_INSNS covers 256 rules; more VRIDs than exist would only lose the tail.
        let _ = p.push(i);
    };
    emit(stmt(op::LD | op::W | op::ABS, AD_RANDOM));
    emit(Insn {
        code: op::JMP | op::JSET | op::K,
        jt: 1,
        jf: 0,
        k: SAMPLE - 1,
    });
    emit(stmt(op::RET | op::K, ACCEPT));
    emit(match start {
        Start::AfterIpv4Header => stmt(op::LDX | op::B | op::MSH, 0),
        Start::Payload => stmt(op::LDX | op::W | op::IMM, 0),
    });
    emit(stmt(op::LD | op::B | op::IND, 1));
    let rules = &rules[..rules.len().min(256)];
    for (g, first) in rules.iter().enumerate() {
        if rules[..g].iter().any(|r| r.pass == first.pass) {
            continue; // this password's group is already out
        }
        let vrids: heapless::Vec<u8, 256> = rules[g..]
            .iter()
            .filter(|r| r.pass == first.pass)
            .map(|r| r.vrid)
            .collect();
        let block = block(first.pass);
        let n = vrids.len();
        for (i, &v) in vrids.iter().enumerate() {
            // n <= 256, so n - 1 - i fits in 8 bits; the block is at most 10 long.
            let to_block = (n - 1 - i) as u8;
            let past_block = if i == n - 1 { block.len() as u8 } else { 0 };
            emit(jeq(u32::from(v), to_block, past_block));
        }
        block.iter().copied().for_each(&mut emit);
    }
    emit(stmt(op::RET | op::K, 0));
    p
}

/// What follows a VRID match: accept, or check the password first.
fn block(pass: Option<[u8; AUTH_DATA_LEN]>) -> heapless::Vec<Insn, 10> {
    let mut b = heapless::Vec::new();
    let Some(pass) = pass else {
        let _ = b.push(stmt(op::RET | op::K, ACCEPT));
        return b;
    };
    let word = |at: usize| u32::from_be_bytes([pass[at], pass[at + 1], pass[at + 2], pass[at + 3]]);
    for i in [
        stmt(op::LD | op::B | op::IND, 3),
        stmt(op::ALU | op::LSH | op::K, 2),
        stmt(op::ALU | op::ADD | op::X, 0),
        stmt(op::MISC | op::TAX, 0),
        stmt(op::LD | op::W | op::IND, HEADER_LEN as u32),
        jeq(word(0), 0, 3),
        stmt(op::LD | op::W | op::IND, HEADER_LEN as u32 + 4),
        jeq(word(4), 0, 1),
        stmt(op::RET | op::K, ACCEPT),
        stmt(op::RET | op::K, 0),
    ] {
        let _ = b.push(i);
    }
    b
}

/// Attaches the filter for `rules`. The kernel caps a socket's filter memory (optmem_max);
/// past it (some 200 distinct passwords on one link) the filter checks VRIDs only and the
/// daemon checks passwords, as it always does. Returns whether passwords are checked here.
pub fn attach_rules(fd: &impl AsRawFd, start: Start, rules: &[Rule]) -> io::Result<bool> {
    match attach(fd, &program(start, rules)) {
        Err(e) if e.raw_os_error() == Some(libc::ENOMEM) => {
            let vrids_only: heapless::Vec<Rule, 256> = rules
                .iter()
                .take(256)
                .map(|r| Rule { pass: None, ..*r })
                .collect();
            attach(fd, &program(start, &vrids_only)).map(|()| false)
        }
        other => other.map(|()| true),
    }
}

/// Attaches `prog` to socket `fd` (SO_ATTACH_FILTER), replacing any filter it had.
pub fn attach(fd: &impl AsRawFd, prog: &[Insn]) -> io::Result<()> {
    let len = u16::try_from(prog.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "BPF program too long"))?;
    let fprog = libc::sock_fprog {
        len,
        // The kernel copies the program and never writes through this pointer.
        filter: prog.as_ptr().cast_mut().cast::<libc::sock_filter>(),
    };
    os::setsockopt(fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &fprog)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::wire::testdata::{V2_PASS_1, V2_UNICAST_1, V3_ADVERT_1};

    /// What the kernel would do: a small interpreter for the instructions `program` emits,
    /// with `rand` as the random word. Returns the `ret` value (0 = drop), or None for an
    /// instruction it does not know.
    fn run_with(prog: &[Insn], pkt: &[u8], rand: u32) -> Option<u32> {
        let (mut a, mut x) = (0u32, 0u32);
        let mut pc = 0usize;
        let load = |at: u32, n: usize| -> Option<u32> {
            let at = usize::try_from(at).ok()?;
            let bytes = pkt.get(at..at.checked_add(n)?)?;
            Some(bytes.iter().fold(0u32, |v, &b| (v << 8) | u32::from(b)))
        };
        loop {
            let i = *prog.get(pc)?;
            pc += 1;
            match i.code {
                c if c == op::LDX | op::B | op::MSH => match load(i.k, 1) {
                    Some(b) => x = 4 * (b & 0xf),
                    None => return Some(0),
                },
                c if c == op::LDX | op::W | op::IMM => x = i.k,
                c if c == op::LD | op::W | op::ABS && i.k == AD_RANDOM => a = rand,
                c if c == op::LD | op::B | op::IND => match load(x.wrapping_add(i.k), 1) {
                    Some(v) => a = v,
                    None => return Some(0),
                },
                c if c == op::LD | op::W | op::IND => match load(x.wrapping_add(i.k), 4) {
                    Some(v) => a = v,
                    None => return Some(0),
                },
                c if c == op::ALU | op::LSH | op::K => a <<= i.k,
                c if c == op::ALU | op::ADD | op::X => a = a.wrapping_add(x),
                c if c == op::MISC | op::TAX => x = a,
                c if c == op::JMP | op::JEQ | op::K => {
                    pc += usize::from(if a == i.k { i.jt } else { i.jf });
                }
                c if c == op::JMP | op::JSET | op::K => {
                    pc += usize::from(if a & i.k != 0 { i.jt } else { i.jf });
                }
                c if c == op::RET | op::K => return Some(i.k),
                _ => return None,
            }
        }
    }

    /// The filter proper: a random word that does not sample.
    pub(crate) fn run(prog: &[Insn], pkt: &[u8]) -> Option<u32> {
        run_with(prog, pkt, 1)
    }

    const PASS: [u8; 8] = *b"s3cret\0\0";
    const ETH: usize = 14;

    fn ip(frame: &[u8]) -> &[u8] {
        &frame[ETH..]
    }

    fn accepts(rules: &[Rule], pkt: &[u8]) -> bool {
        let p = program(Start::AfterIpv4Header, rules);
        match run(&p, pkt) {
            Some(v) => v != 0,
            None => panic!("unknown instruction in {p:?}"),
        }
    }

    #[test]
    fn keepalived_adverts_pass_only_their_vrid_and_password() {
        // Real keepalived frames: v2 PASS "s3cret" VRID 51, v3 VRID 51.
        let v2 = ip(&V2_PASS_1);
        let v3 = ip(&V3_ADVERT_1);
        let vrid = v2[20 + 1];
        let ok = Rule {
            vrid,
            pass: Some(PASS),
        };
        assert!(accepts(&[ok], v2));
        assert!(accepts(&[ok], ip(&V2_UNICAST_1)));
        assert!(
            !accepts(
                &[Rule {
                    vrid: vrid + 1,
                    ..ok
                }],
                v2
            ),
            "other VRID"
        );
        let wrong = Rule {
            pass: Some(*b"s3cres\0\0"),
            ..ok
        };
        assert!(!accepts(&[wrong], v2), "wrong password, first word right");
        let wrong = Rule {
            pass: Some(*b"x3cret\0\0"),
            ..ok
        };
        assert!(!accepts(&[wrong], v2), "wrong password, second word right");
        let open = Rule {
            vrid: v3[20 + 1],
            pass: None,
        };
        assert!(accepts(&[open], v3));
        assert!(!accepts(&[], v3), "no rules, nothing passes");
    }

    #[test]
    fn password_is_found_after_any_number_of_addresses() {
        let mut pkt = ip(&V2_PASS_1).to_vec();
        // Two more addresses: Count 3, auth data 8 bytes later.
        let auth = pkt.split_off(pkt.len() - AUTH_DATA_LEN);
        pkt.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        pkt.extend_from_slice(&auth);
        pkt[20 + 3] = 3;
        let rule = Rule {
            vrid: pkt[21],
            pass: Some(PASS),
        };
        assert!(accepts(&[rule], &pkt));
        // The count says 4 addresses: the auth data would lie past the end.
        pkt[20 + 3] = 4;
        assert!(!accepts(&[rule], &pkt));
    }

    #[test]
    fn truncated_and_optioned_headers() {
        let v2 = ip(&V2_PASS_1);
        let rule = Rule {
            vrid: v2[21],
            pass: Some(PASS),
        };
        for cut in 0..v2.len() {
            assert!(!accepts(&[rule], &v2[..cut]), "cut to {cut} bytes");
        }
        // An IPv4 header with 4 bytes of options (IHL 6) moves the message along.
        let mut opt = v2[..20].to_vec();
        opt[0] = 0x46;
        opt.extend_from_slice(&[1, 1, 1, 0]);
        opt.extend_from_slice(&v2[20..]);
        assert!(accepts(&[rule], &opt));
    }

    #[test]
    fn many_vrids_and_the_payload_start() {
        let v3 = ip(&V3_ADVERT_1);
        let mine = v3[21];
        // Every VRID but this one first, all with passwords: the longest program.
        let mut rules: Vec<Rule> = (0..=255u8)
            .filter(|&v| v != mine)
            .map(|vrid| Rule {
                vrid,
                pass: Some(PASS),
            })
            .collect();
        assert!(!accepts(&rules, v3));
        rules.push(Rule {
            vrid: mine,
            pass: None,
        });
        assert!(accepts(&rules, v3));
        let p = program(Start::AfterIpv4Header, &rules);
        assert!(
            p.len() <= MAX_INSNS && p.len() < 4096,
            "{} instructions",
            p.len()
        );
        // The same message as an IPv6 raw socket hands it over: no IP header.
        let p6 = program(Start::Payload, &rules);
        assert_eq!(run(&p6, &v3[20..]), Some(ACCEPT));
        assert_eq!(
            run(&p6, v3),
            Some(0),
            "an IP header in front is not a VRRP message"
        );
    }

    #[test]
    fn one_random_word_in_sample_passes_anything() {
        let v2 = ip(&V2_PASS_1);
        let ok = Rule {
            vrid: v2[21],
            pass: Some(PASS),
        };
        let wrong = Rule {
            pass: Some(*b"s3cres\0\0"),
            ..ok
        };
        let p = program(Start::AfterIpv4Header, &[wrong]);
        let mut passed = 0;
        for rand in (0..4 * SAMPLE).chain([u32::MAX, u32::MAX - (SAMPLE - 1)]) {
            let sampled = rand % SAMPLE == 0;
            // A wrong password, a runt too short for any load, nothing at all: dropped
            // unless sampled, and then passed whole.
            for pkt in [v2, &v2[..1], &[]] {
                let want = if sampled { ACCEPT } else { 0 };
                assert_eq!(run_with(&p, pkt, rand), Some(want), "rand {rand:#x}");
            }
            let good = program(Start::Payload, &[ok]);
            assert_eq!(run_with(&good, &v2[20..], rand), Some(ACCEPT));
            passed += usize::from(sampled);
        }
        assert_eq!(passed, 4 + 1);
    }

    /// The real kernel's `ld rand`: a filter that admits nothing lets some 1 in SAMPLE through.
    #[test]
    fn the_kernel_samples_one_in_sample() {
        let rx = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp socket");
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp socket");
        attach(&rx, &program(Start::Payload, &[])).expect("attach");
        rx.set_nonblocking(true).expect("nonblocking");
        let to = rx.local_addr().expect("address");
        // 16384 sent, 64 expected: 8 to 160 is more than 7 standard deviations either way.
        let sent = 16384;
        for _ in 0..sent {
            tx.send_to(b"x", to).expect("send");
        }
        let mut got = 0;
        let mut buf = [0u8; 16];
        let until = std::time::Instant::now() + std::time::Duration::from_millis(200);
        while std::time::Instant::now() < until {
            match rx.recv(&mut buf) {
                Ok(_) => got += 1,
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
            }
        }
        let want = sent / SAMPLE as usize;
        eprintln!("{got} of {sent} sampled (expected {want})");
        assert!((8..=160).contains(&got), "{got} of {sent} sampled");
    }

    #[test]
    fn the_kernel_takes_every_program() {
        // Any socket takes a filter, and no privilege is needed: a UDP socket will do.
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp socket");
        let shared: Vec<Rule> = (0..=255u8)
            .map(|vrid| Rule {
                vrid,
                pass: Some(PASS),
            })
            .collect();
        for start in [Start::AfterIpv4Header, Start::Payload] {
            let p = program(start, &shared);
            attach(&sock, &p).unwrap_or_else(|e| panic!("{} instructions refused: {e}", p.len()));
        }
        assert_eq!(program(Start::Payload, &shared).len(), 3 + 2 + 256 + 10 + 1);
        // A different password on every VRID is past the kernel's filter memory: VRIDs only.
        let distinct: Vec<Rule> = (0..=255u8)
            .map(|vrid| Rule {
                vrid,
                pass: Some([vrid; 8]),
            })
            .collect();
        let checked = attach_rules(&sock, Start::AfterIpv4Header, &distinct).expect("fallback");
        let p = program(Start::AfterIpv4Header, &distinct);
        eprintln!(
            "{} instructions, passwords checked in the kernel: {checked}",
            p.len()
        );
        let few = &distinct[..8];
        assert_eq!(
            attach_rules(&sock, Start::AfterIpv4Header, few).ok(),
            Some(true)
        );
        attach(&sock, &program(Start::Payload, &[])).expect("the empty program");
    }

    #[test]
    fn vrids_grouped_by_password() {
        let v2 = ip(&V2_PASS_1);
        let vrid = v2[21];
        let other = |v: u8, pass| Rule { vrid: v, pass };
        // The advert's VRID in the middle of three groups: no password, another, the right one.
        let rules = [
            other(1, None),
            other(2, Some(*b"abcdefgh")),
            other(vrid, Some(PASS)),
            other(3, None),
            other(4, Some(*b"abcdefgh")),
        ];
        assert!(accepts(&rules, v2));
        let mut swapped = rules;
        swapped[2].pass = Some(*b"abcdefgh");
        assert!(!accepts(&swapped, v2), "the other group's password");
        swapped[2].pass = None;
        assert!(accepts(&swapped, v2), "the group without a password");
        for v in [1, 3] {
            let mut pkt = v2.to_vec();
            pkt[21] = v;
            assert!(accepts(&rules, &pkt), "VRID {v} wants no password");
        }
        let mut pkt = v2.to_vec();
        pkt[21] = 2;
        assert!(!accepts(&rules, &pkt), "VRID 2 wants another password");
    }
}
