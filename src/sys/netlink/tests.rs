//! Decoding tests on hand-built byte buffers (native endian, as the kernel sends them).

use super::consts::*;
use super::parse::{Attrs, Messages};
use super::*;

fn nlmsg(ty: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let len = (NLMSG_HDRLEN + payload.len()) as u32;
    let mut v = Vec::new();
    v.extend_from_slice(&len.to_ne_bytes());
    v.extend_from_slice(&ty.to_ne_bytes());
    v.extend_from_slice(&flags.to_ne_bytes());
    v.extend_from_slice(&seq.to_ne_bytes());
    v.extend_from_slice(&0u32.to_ne_bytes());
    v.extend_from_slice(payload);
    pad(&mut v);
    v
}

fn pad(v: &mut Vec<u8>) {
    while v.len() % 4 != 0 {
        v.push(0);
    }
}

fn rta(ty: u16, data: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&((4 + data.len()) as u16).to_ne_bytes());
    v.extend_from_slice(&ty.to_ne_bytes());
    v.extend_from_slice(data);
    pad(&mut v);
    v
}

fn ifinfo(family: u8, index: i32, flags: u32, attrs: &[Vec<u8>]) -> Vec<u8> {
    let mut v = vec![family, 0, 1, 0]; // family, pad, ARPHRD_ETHER
    v.extend_from_slice(&index.to_ne_bytes());
    v.extend_from_slice(&flags.to_ne_bytes());
    v.extend_from_slice(&0xffff_ffffu32.to_ne_bytes());
    for a in attrs {
        v.extend_from_slice(a);
    }
    v
}

fn ifaddr(family: u8, prefix: u8, flags: u8, index: u32, attrs: &[Vec<u8>]) -> Vec<u8> {
    let mut v = vec![family, prefix, flags, 0];
    v.extend_from_slice(&index.to_ne_bytes());
    for a in attrs {
        v.extend_from_slice(a);
    }
    v
}

const MAC: [u8; 6] = [0x02, 0x00, 0x5e, 0x00, 0x01, 0x07];

fn newlink(index: i32, flags: u32) -> Vec<u8> {
    let attrs = [
        rta(IFLA_IFNAME, b"eth0\0"),
        rta(IFLA_ADDRESS, &MAC),
        rta(4, &1500u32.to_ne_bytes()), // IFLA_MTU: ignored
    ];
    nlmsg(RTM_NEWLINK, 0, 0, &ifinfo(AF_UNSPEC, index, flags, &attrs))
}

fn newaddr(ty: u16, flags: u8, attrs: &[Vec<u8>]) -> Vec<u8> {
    nlmsg(ty, 0, 0, &ifaddr(AF_INET, 24, flags, 3, attrs))
}

fn collect(buf: &[u8]) -> (Vec<Event>, Result<(), ParseError>) {
    let mut events = Vec::new();
    let r = parse_messages(buf, &mut |e| events.push(e));
    (events, r)
}

fn name(s: &str) -> heapless::String<16> {
    heapless::String::try_from(s).unwrap()
}

#[test]
fn newlink_name_mac_and_up() {
    let (ev, r) = collect(&newlink(2, IFF_UP | IFF_RUNNING | 0x1000));
    assert_eq!(r, Ok(()));
    assert_eq!(
        ev,
        vec![Event::Link(LinkInfo {
            ifindex: 2,
            name: name("eth0"),
            up: true,
            mac: MAC,
            kind: heapless::String::new(),
            parent: 0,
        })]
    );
    // Up without carrier is not up.
    let (ev, _) = collect(&newlink(2, IFF_UP));
    assert!(matches!(&ev[..], [Event::Link(l)] if !l.up));
}

#[test]
fn dellink_and_bridge_messages() {
    let del = nlmsg(RTM_DELLINK, 0, 0, &ifinfo(AF_UNSPEC, 9, 0, &[]));
    assert_eq!(collect(&del).0, vec![Event::LinkRemoved { ifindex: 9 }]);
    // AF_BRIDGE (7) port notifications are not link news.
    let br = nlmsg(RTM_DELLINK, 0, 0, &ifinfo(7, 9, 0, &[]));
    assert_eq!(collect(&br), (vec![], Ok(())));
}

#[test]
fn link_without_name_or_mac() {
    let no_name = nlmsg(
        RTM_NEWLINK,
        0,
        0,
        &ifinfo(AF_UNSPEC, 4, 0, &[rta(IFLA_ADDRESS, &MAC)]),
    );
    assert_eq!(collect(&no_name), (vec![], Ok(())), "skipped");
    // A tunnel's 4-byte address is not a MAC.
    let tun = nlmsg(
        RTM_NEWLINK,
        0,
        0,
        &ifinfo(
            AF_UNSPEC,
            5,
            0,
            &[rta(IFLA_IFNAME, b"tun0"), rta(IFLA_ADDRESS, &[1, 2, 3, 4])],
        ),
    );
    let (ev, _) = collect(&tun);
    assert!(matches!(&ev[..], [Event::Link(l)] if l.mac == [0; 6] && l.name == "tun0"));
}

#[test]
fn newaddr_and_deladdr() {
    let attrs = [
        rta(IFA_ADDRESS, &[10, 99, 0, 9]),
        rta(IFA_LOCAL, &[10, 99, 0, 1]),
        rta(IFA_LABEL, b"eth0:vip\0"),
        rta(IFA_BROADCAST, &[10, 99, 0, 255]),
    ];
    let mut buf = newaddr(RTM_NEWADDR, IFA_F_SECONDARY as u8, &attrs);
    buf.extend(newaddr(RTM_DELADDR, 0, &attrs[..2]));
    let (ev, r) = collect(&buf);
    assert_eq!(r, Ok(()));
    let added = AddrInfo {
        ifindex: 3,
        addr: Ipv4Addr::new(10, 99, 0, 1).into(), // IFA_LOCAL wins over the peer address
        prefix_len: 24,
        secondary: true,
        tentative: false,
        label: name("eth0:vip"),
    };
    let removed = AddrInfo {
        secondary: false,
        label: name(""),
        ..added.clone()
    };
    assert_eq!(
        ev,
        vec![Event::AddrAdded(added), Event::AddrRemoved(removed)]
    );
}

#[test]
fn addr_fallbacks_and_ifa_flags() {
    // Only IFA_ADDRESS; the 32-bit IFA_FLAGS overrides the 8-bit field.
    let attrs = [
        rta(IFA_ADDRESS, &[10, 99, 1, 1]),
        rta(IFA_FLAGS, &0x80u32.to_ne_bytes()),
    ];
    let (ev, _) = collect(&newaddr(RTM_NEWADDR, IFA_F_SECONDARY as u8, &attrs));
    assert!(
        matches!(&ev[..], [Event::AddrAdded(a)] if a.addr == Ipv4Addr::new(10, 99, 1, 1) && !a.secondary)
    );
    // No address at all, or a 16-byte one: skipped.
    assert_eq!(collect(&newaddr(RTM_NEWADDR, 0, &[])).0, vec![]);
    assert_eq!(
        collect(&newaddr(RTM_NEWADDR, 0, &[rta(IFA_LOCAL, &[0; 16])])).0,
        vec![]
    );
}

#[test]
fn other_families_and_types_are_ignored() {
    let mut buf = nlmsg(
        RTM_NEWADDR,
        0,
        0,
        &ifaddr(7, 64, 0, 3, &[rta(IFA_ADDRESS, &[0; 16])]),
    );
    buf.extend(nlmsg(24, 0, 0, &[0; 12])); // RTM_NEWROUTE
    buf.extend(nlmsg(NLMSG_DONE, 0, 0, &0i32.to_ne_bytes()));
    buf.extend(nlmsg(NLMSG_ERROR, 0, 0, &(-1i32).to_ne_bytes()));
    assert_eq!(collect(&buf), (vec![], Ok(())));
}

#[test]
fn ipv6_addresses_and_their_dad_state() {
    let ll = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7];
    let tentative = IFA_F_TENTATIVE as u8;
    let mut buf = nlmsg(
        RTM_NEWADDR,
        0,
        0,
        &ifaddr(10, 64, tentative, 3, &[rta(IFA_ADDRESS, &ll)]),
    );
    buf.extend(nlmsg(
        RTM_NEWADDR,
        0,
        0,
        &ifaddr(10, 64, 0, 3, &[rta(IFA_ADDRESS, &ll)]),
    ));
    buf.extend(nlmsg(
        RTM_NEWADDR,
        0,
        0,
        &ifaddr(10, 129, 0, 3, &[rta(IFA_ADDRESS, &ll)]),
    ));
    let (ev, r) = collect(&buf);
    assert_eq!(r, Ok(()));
    let first = AddrInfo {
        ifindex: 3,
        addr: std::net::Ipv6Addr::from(ll).into(),
        prefix_len: 64,
        secondary: false,
        tentative: true,
        label: name(""),
    };
    let done = AddrInfo {
        tentative: false,
        ..first.clone()
    };
    // The /129 is refused; the other two decode.
    assert_eq!(ev, vec![Event::AddrAdded(first), Event::AddrAdded(done)]);
}

#[test]
fn several_messages_last_unpadded() {
    let mut buf = newlink(2, 0);
    buf.extend(newlink(3, 0));
    // A message whose length is not a multiple of 4 and that ends the buffer.
    let mut last = nlmsg(
        RTM_DELLINK,
        0,
        0,
        &ifinfo(AF_UNSPEC, 4, 0, &[rta(99, &[7])]),
    );
    let real_len = NLMSG_HDRLEN + IFINFOMSG_LEN + 5;
    last[..4].copy_from_slice(&(real_len as u32).to_ne_bytes());
    last.truncate(real_len);
    buf.extend(last);
    let (ev, r) = collect(&buf);
    assert_eq!(r, Ok(()));
    assert_eq!(ev.len(), 3);
    assert_eq!(ev[2], Event::LinkRemoved { ifindex: 4 });
}

#[test]
fn bad_attribute_skips_only_its_message() {
    let mut payload = ifinfo(AF_UNSPEC, 2, 0, &[rta(IFLA_IFNAME, b"eth0\0")]);
    // An attribute that claims more bytes than the message has.
    payload.extend_from_slice(&200u16.to_ne_bytes());
    payload.extend_from_slice(&IFLA_ADDRESS.to_ne_bytes());
    let mut buf = nlmsg(RTM_NEWLINK, 0, 0, &payload);
    // And one that claims less than its own header.
    let mut short = ifinfo(AF_UNSPEC, 2, 0, &[]);
    short.extend_from_slice(&2u16.to_ne_bytes());
    short.extend_from_slice(&IFLA_IFNAME.to_ne_bytes());
    buf.extend(nlmsg(RTM_NEWLINK, 0, 0, &short));
    buf.extend(newlink(3, 0));
    let (ev, r) = collect(&buf);
    assert_eq!(r, Ok(()));
    assert!(matches!(&ev[..], [Event::Link(l)] if l.ifindex == 3));
}

#[test]
fn bogus_message_lengths_stop_with_error() {
    let good = newlink(2, 0);
    for bogus_len in [0u32, 4, 15, 10_000, u32::MAX] {
        let mut buf = good.clone();
        let mut bad = newlink(3, 0);
        bad[..4].copy_from_slice(&bogus_len.to_ne_bytes());
        buf.extend(bad);
        buf.extend(newlink(4, 0));
        let (ev, r) = collect(&buf);
        assert!(r.is_err(), "len {bogus_len}");
        assert_eq!(ev.len(), 1, "events before the bad frame still arrive");
    }
    // A buffer too short for a header.
    assert_eq!(collect(&[1, 2, 3]).1, Err(ParseError::Truncated));
    assert_eq!(collect(&[]), (vec![], Ok(())));
}

#[test]
fn short_family_structs_are_skipped() {
    for ty in [RTM_NEWLINK, RTM_DELLINK, RTM_NEWADDR, RTM_DELADDR] {
        for n in 0..IFINFOMSG_LEN {
            let buf = nlmsg(ty, 0, 0, &[0u8; IFINFOMSG_LEN][..n]);
            assert_eq!(collect(&buf).0, vec![], "type {ty} payload {n}");
        }
    }
    // Index 0 or negative is not an interface.
    assert_eq!(collect(&newlink(0, 0)).0, vec![]);
    assert_eq!(collect(&newlink(-3, 0)).0, vec![]);
}

/// A tiny deterministic generator, so the test needs no crate and always runs the same cases.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn mangled_input_never_panics() {
    let mut seed = newlink(2, IFF_UP);
    seed.extend(newaddr(
        RTM_NEWADDR,
        0,
        &[rta(IFA_LOCAL, &[10, 99, 0, 1]), rta(IFA_LABEL, b"eth0\0")],
    ));
    seed.extend(nlmsg(RTM_DELLINK, 0, 0, &ifinfo(AF_UNSPEC, 2, 0, &[])));
    // Every prefix.
    for n in 0..=seed.len() {
        let _ = collect(&seed[..n]);
    }
    // Random byte flips, random garbage.
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        let mut buf = seed.clone();
        for _ in 0..(rng.next() % 6 + 1) {
            let i = (rng.next() as usize) % buf.len();
            buf[i] = rng.next() as u8;
        }
        let cut = (rng.next() as usize) % (buf.len() + 1);
        let _ = collect(&buf[..cut]);
        let _ = collect(&buf);
    }
    for _ in 0..2_000 {
        let len = (rng.next() % 300) as usize;
        let buf: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let _ = collect(&buf);
    }
}

#[test]
fn attribute_types_lose_flag_bits() {
    let nested = rta(IFLA_IFNAME | 0x8000, b"x");
    let got: Vec<_> = Attrs::new(&nested).collect();
    assert_eq!(got, vec![Ok((IFLA_IFNAME, &b"x"[..]))]);
}

#[test]
fn request_layout() {
    let mut req = Request::new(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK, 77);
    req.push(&ifaddrmsg(Ipv4Addr::UNSPECIFIED.into(), 24, 0, 0, 5))
        .unwrap();
    req.attr(IFA_LOCAL, &[10, 99, 0, 1]).unwrap();
    req.attr(IFA_LABEL, b"eth0:1\0").unwrap();
    let bytes = req.bytes().to_vec();
    let expected = nlmsg(
        RTM_NEWADDR,
        NLM_F_REQUEST | NLM_F_ACK,
        77,
        &ifaddr(
            AF_INET,
            24,
            0,
            5,
            &[rta(IFA_LOCAL, &[10, 99, 0, 1]), rta(IFA_LABEL, b"eth0:1\0")],
        ),
    );
    assert_eq!(bytes, expected);
    let msgs: Vec<_> = Messages::new(&bytes).collect();
    assert!(matches!(&msgs[..], [Ok(m)] if m.header.seq == 77 && m.header.ty == RTM_NEWADDR));
    // Overflowing the fixed buffer is an error, not a panic.
    let mut big = Request::new(RTM_NEWADDR, 0, 1);
    assert!(big.attr(1, &[0; 300]).is_err());
    assert!(big.attr(1, &[0; 70_000]).is_err());
}

#[test]
fn ack_results() {
    assert!(ack_result(&0i32.to_ne_bytes()).is_ok());
    let e = ack_result(&(-libc::EEXIST).to_ne_bytes()).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EEXIST));
    assert!(ack_result(&[0, 0]).is_err());
    assert!(ack_result(&i32::MIN.to_ne_bytes()).is_err());
}

#[test]
fn bad_vip_specs_are_refused() {
    let mut nl = Netlink::open().unwrap();
    let mut vip = VipSpec {
        ifindex: 1,
        addr: Ipv4Addr::new(10, 99, 0, 1).into(),
        prefix_len: 33,
        brd: None,
        scope: 0,
        label: None,
    };
    assert_eq!(
        nl.add_addr(&vip).unwrap_err().kind(),
        io::ErrorKind::InvalidInput
    );
    vip.prefix_len = 32;
    vip.label = Some("a-label-far-too-long");
    assert_eq!(
        nl.add_addr(&vip).unwrap_err().kind(),
        io::ErrorKind::InvalidInput
    );
    // Interface 1 is "lo" in every namespace.
    vip.label = Some("eth0:1");
    let err = nl.add_addr(&vip).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("\"lo\""), "{err}");
}

#[test]
fn extended_ack_text() {
    let mut payload = (-libc::EINVAL).to_ne_bytes().to_vec();
    payload.extend(nlmsg(RTM_NEWADDR, 0, 5, &[])); // the capped request header
    payload.extend(rta(NLMSGERR_ATTR_MSG, b"ipv4: Invalid scope value.\0"));
    let flags = NLM_F_CAPPED | NLM_F_ACK_TLVS;
    assert_eq!(
        ext_ack_message(flags, &payload),
        Some("ipv4: Invalid scope value.")
    );
    assert_eq!(ext_ack_message(NLM_F_CAPPED, &payload), None, "no TLV flag");
    // Uncapped: the whole request (header + 8 bytes) precedes the attributes.
    let mut full = (-libc::EINVAL).to_ne_bytes().to_vec();
    full.extend(nlmsg(RTM_NEWADDR, 0, 5, &[0; 8]));
    full.extend(rta(NLMSGERR_ATTR_MSG, b"why"));
    assert_eq!(ext_ack_message(NLM_F_ACK_TLVS, &full), Some("why"));
    // Lies about lengths give None, not a panic.
    for cut in 0..full.len() {
        let _ = ext_ack_message(NLM_F_ACK_TLVS, &full[..cut]);
    }
    full[4..8].copy_from_slice(&u32::MAX.to_ne_bytes());
    assert_eq!(ext_ack_message(NLM_F_ACK_TLVS, &full), None);
}
