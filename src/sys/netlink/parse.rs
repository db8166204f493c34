//! Pure decoding of rtnetlink messages: framing, attributes, and the link/address events the
//! daemon cares about. It reads fields byte by byte, so alignment and length lies are harmless.

use core::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::consts::*;
use super::{AddrInfo, Event, LinkInfo};

/// Why a buffer or message could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// The bytes end before the structure they announce.
    Truncated,
    /// A length field is smaller than its own header.
    BadLength,
    /// A message lacks an attribute it cannot do without.
    MissingAttribute,
    /// A field holds a value that cannot be right (wrong size, out of range, not UTF-8).
    BadValue,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParseError::Truncated => "netlink: truncated message",
            ParseError::BadLength => "netlink: bad length field",
            ParseError::MissingAttribute => "netlink: required attribute missing",
            ParseError::BadValue => "netlink: bad attribute value",
        })
    }
}

impl std::error::Error for ParseError {}

/// Decodes every message in `buf` (one datagram) and hands the events to `f`, in order.
/// Message types other than link and address changes are ignored; a malformed message is
/// skipped. Only broken framing, after which the rest cannot be found, stops it with an error.
pub fn parse_messages(buf: &[u8], f: &mut dyn FnMut(Event)) -> Result<(), ParseError> {
    for msg in Messages::new(buf) {
        match decode_event(&msg?) {
            Ok(Some(ev)) => f(ev),
            Ok(None) => {}
            Err(e) => log::debug!("skipping a netlink message: {e}"),
        }
    }
    Ok(())
}

/// The fixed netlink message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Header {
    pub ty: u16,
    pub flags: u16,
    pub seq: u32,
    pub pid: u32,
}

/// One framed message: header plus the payload its length covers.
#[derive(Debug)]
pub(super) struct Message<'a> {
    pub header: Header,
    pub payload: &'a [u8],
}

/// Walks the messages of one datagram. After a framing error it yields that error once and ends.
pub(super) struct Messages<'a> {
    rest: &'a [u8],
}

impl<'a> Messages<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Messages { rest: buf }
    }
}

impl<'a> Iterator for Messages<'a> {
    type Item = Result<Message<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let buf = self.rest;
        let result = frame(buf);
        match &result {
            Ok((_, used)) => self.rest = buf.get(*used..).unwrap_or(&[]),
            Err(_) => self.rest = &[],
        }
        Some(result.map(|(msg, _)| msg))
    }
}

/// The first message of `buf` and how many bytes (with padding) it takes.
fn frame(buf: &[u8]) -> Result<(Message<'_>, usize), ParseError> {
    let len = read_u32(buf, 0).ok_or(ParseError::Truncated)? as usize;
    let header = Header {
        ty: read_u16(buf, 4).ok_or(ParseError::Truncated)?,
        flags: read_u16(buf, 6).ok_or(ParseError::Truncated)?,
        seq: read_u32(buf, 8).ok_or(ParseError::Truncated)?,
        pid: read_u32(buf, 12).ok_or(ParseError::Truncated)?,
    };
    if len < NLMSG_HDRLEN {
        return Err(ParseError::BadLength);
    }
    let payload = buf.get(NLMSG_HDRLEN..len).ok_or(ParseError::Truncated)?;
    // The last message of a datagram may omit its padding.
    let used = align4(len).min(buf.len());
    Ok((Message { header, payload }, used))
}

/// Walks route attributes (`struct rtattr`): type with the flag bits masked off, and data.
pub(super) struct Attrs<'a> {
    rest: &'a [u8],
}

impl<'a> Attrs<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Attrs { rest: buf }
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<(u16, &'a [u8]), ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let buf = self.rest;
        let item = (|| {
            let len = read_u16(buf, 0).ok_or(ParseError::Truncated)? as usize;
            let ty = read_u16(buf, 2).ok_or(ParseError::Truncated)? & NLA_TYPE_MASK;
            if len < RTA_HDRLEN {
                return Err(ParseError::BadLength);
            }
            let data = buf.get(RTA_HDRLEN..len).ok_or(ParseError::Truncated)?;
            Ok(((ty, data), align4(len).min(buf.len())))
        })();
        match item {
            Ok((attr, used)) => {
                self.rest = buf.get(used..).unwrap_or(&[]);
                Some(Ok(attr))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

/// The event a message describes, `None` for messages the daemon has no use for.
pub(super) fn decode_event(msg: &Message<'_>) -> Result<Option<Event>, ParseError> {
    match msg.header.ty {
        RTM_NEWLINK | RTM_DELLINK => decode_link(msg.header.ty, msg.payload),
        RTM_NEWADDR | RTM_DELADDR => decode_addr(msg.header.ty, msg.payload),
        RTM_NEWROUTE | RTM_DELROUTE => super::route::decode_route(msg.header.ty, msg.payload),
        RTM_NEWRULE | RTM_DELRULE => super::route::decode_rule(msg.header.ty, msg.payload),
        _ => Ok(None),
    }
}

fn decode_link(ty: u16, p: &[u8]) -> Result<Option<Event>, ParseError> {
    // struct ifinfomsg: family u8, pad u8, type u16, index i32, flags u32, change u32.
    let family = *p.first().ok_or(ParseError::Truncated)?;
    let index = read_u32(p, 4).ok_or(ParseError::Truncated)?;
    let flags = read_u32(p, 8).ok_or(ParseError::Truncated)?;
    let attrs = p.get(IFINFOMSG_LEN..).ok_or(ParseError::Truncated)?;
    // The bridge code reports port changes with family AF_BRIDGE, and its RTM_DELLINK only
    // means "left the bridge". Real link news comes with AF_UNSPEC.
    if family != AF_UNSPEC {
        return Ok(None);
    }
    // ifi_index is a signed int; a non-positive one is not an interface.
    if index == 0 || index > i32::MAX as u32 {
        return Err(ParseError::BadValue);
    }
    if ty == RTM_DELLINK {
        return Ok(Some(Event::LinkRemoved { ifindex: index }));
    }
    let mut name = None;
    let mut mac = [0u8; 6];
    let mut kind = heapless::String::new();
    let mut parent = 0;
    for attr in Attrs::new(attrs) {
        match attr? {
            (IFLA_IFNAME, data) => name = Some(c_string(data)?),
            (IFLA_LINK, data) => parent = read_u32(data, 0).ok_or(ParseError::BadValue)?,
            (IFLA_LINKINFO, data) => kind = link_kind(data)?,
            // Ethernet-like links only; others (tunnels, ppp) keep an all-zero MAC.
            (IFLA_ADDRESS, data) if data.len() == 6 => mac.copy_from_slice(data),
            _ => {}
        }
    }
    let up_bits = IFF_UP | IFF_RUNNING;
    Ok(Some(Event::Link(LinkInfo {
        ifindex: index,
        name: name.ok_or(ParseError::MissingAttribute)?,
        up: flags & up_bits == up_bits,
        mac,
        kind,
        parent,
    })))
}

/// IFLA_INFO_KIND inside IFLA_LINKINFO; empty if absent. Kinds we do not know are still
/// names, and longer ones than 15 bytes are none we compare against.
fn link_kind(linkinfo: &[u8]) -> Result<heapless::String<16>, ParseError> {
    for attr in Attrs::new(linkinfo) {
        if let (IFLA_INFO_KIND, data) = attr? {
            return Ok(c_string(data).unwrap_or_default());
        }
    }
    Ok(heapless::String::new())
}

fn decode_addr(ty: u16, p: &[u8]) -> Result<Option<Event>, ParseError> {
    // struct ifaddrmsg: family u8, prefixlen u8, flags u8, scope u8, index u32.
    let family = *p.first().ok_or(ParseError::Truncated)?;
    let prefix_len = *p.get(1).ok_or(ParseError::Truncated)?;
    let mut flags = u32::from(*p.get(2).ok_or(ParseError::Truncated)?);
    let index = read_u32(p, 4).ok_or(ParseError::Truncated)?;
    let attrs = p.get(IFADDRMSG_LEN..).ok_or(ParseError::Truncated)?;
    let max_prefix = match family {
        AF_INET => 32,
        AF_INET6 => 128,
        _ => return Ok(None),
    };
    if prefix_len > max_prefix || index == 0 {
        return Err(ParseError::BadValue);
    }
    let (mut local, mut address) = (None, None);
    let mut label = heapless::String::new();
    let ip = |data: &[u8]| match family {
        AF_INET => ipv4(data).map(IpAddr::V4),
        _ => ipv6(data).map(IpAddr::V6),
    };
    for attr in Attrs::new(attrs) {
        match attr? {
            (IFA_LOCAL, data) => local = Some(ip(data)?),
            (IFA_ADDRESS, data) => address = Some(ip(data)?),
            (IFA_LABEL, data) => label = c_string(data)?,
            // The 8-bit ifa_flags cannot hold newer flags; IFA_FLAGS carries all of them.
            (IFA_FLAGS, data) => flags = read_u32(data, 0).ok_or(ParseError::BadValue)?,
            _ => {}
        }
    }
    // IFA_LOCAL is our own address; IFA_ADDRESS differs from it only on point-to-point links,
    // where it names the peer, so it is the fallback.
    let info = AddrInfo {
        ifindex: index,
        addr: local.or(address).ok_or(ParseError::MissingAttribute)?,
        prefix_len,
        secondary: flags & IFA_F_SECONDARY != 0,
        tentative: flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED) != 0,
        label,
    };
    Ok(Some(if ty == RTM_NEWADDR {
        Event::AddrAdded(info)
    } else {
        Event::AddrRemoved(info)
    }))
}

/// An interface name or label: NUL-terminated (the NUL may be missing), at most 15 bytes.
fn c_string(data: &[u8]) -> Result<heapless::String<16>, ParseError> {
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let s = core::str::from_utf8(&data[..end]).map_err(|_| ParseError::BadValue)?;
    heapless::String::try_from(s).map_err(|_| ParseError::BadValue)
}

fn ipv4(data: &[u8]) -> Result<Ipv4Addr, ParseError> {
    let octets: [u8; 4] = data.try_into().map_err(|_| ParseError::BadValue)?;
    Ok(Ipv4Addr::from(octets))
}

fn ipv6(data: &[u8]) -> Result<Ipv6Addr, ParseError> {
    let octets: [u8; 16] = data.try_into().map_err(|_| ParseError::BadValue)?;
    Ok(Ipv6Addr::from(octets))
}

pub(super) fn align4(len: usize) -> usize {
    len.saturating_add(3) & !3
}

/// Native-endian u16 at `at`, if the bytes are there.
pub(super) fn read_u16(buf: &[u8], at: usize) -> Option<u16> {
    let b = buf.get(at..at.checked_add(2)?)?;
    Some(u16::from_ne_bytes([b[0], b[1]]))
}

/// Native-endian u32 at `at`, if the bytes are there.
pub(super) fn read_u32(buf: &[u8], at: usize) -> Option<u32> {
    let b = buf.get(at..at.checked_add(4)?)?;
    Some(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

/// Native-endian i32 at `at`, if the bytes are there.
pub(super) fn read_i32(buf: &[u8], at: usize) -> Option<i32> {
    read_u32(buf, at).map(|v| v as i32)
}
