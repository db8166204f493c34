//! Hand-written rtnetlink (NETLINK_ROUTE): a request socket that adds and removes addresses and
//! macvlans and dumps links and addresses, and a monitor socket that reports link and address
//! changes (IPv4 and IPv6).

use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

mod consts;
mod link;
mod parse;
mod request;
mod route;

#[cfg(test)]
mod route_tests;
#[cfg(test)]
mod tests;

use super::os;
use consts::*;
use parse::{Attrs, Messages, align4, decode_event, read_i32, read_u32};
pub use parse::{ParseError, parse_messages};
use request::Request;
pub use route::{NexthopSpec, RouteKey, RouteSpec, RuleKey, RuleSpec, metric_of};

/// An interface as a link message describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    pub ifindex: u32,
    pub name: heapless::String<16>,
    /// Administratively up (IFF_UP) and with carrier (IFF_RUNNING).
    pub up: bool,
    /// All zero for links without a 6-byte hardware address.
    pub mac: [u8; 6],
    /// The driver (IFLA_INFO_KIND: "macvlan", "veth", …); empty for plain devices.
    pub kind: heapless::String<16>,
    /// IFLA_LINK: the lower device of a macvlan or VLAN (a veth's peer); 0 if none.
    pub parent: u32,
}

/// An IPv4 or IPv6 address on an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrInfo {
    pub ifindex: u32,
    pub addr: IpAddr,
    pub prefix_len: u8,
    pub secondary: bool,
    /// IPv6: still in duplicate address detection, or failed it; not usable as a source.
    pub tentative: bool,
    /// Empty if the kernel sent none.
    pub label: heapless::String<16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// RTM_NEWLINK: a link appeared or changed.
    Link(LinkInfo),
    /// RTM_DELLINK: a link is gone.
    LinkRemoved {
        ifindex: u32,
    },
    AddrAdded(AddrInfo),
    AddrRemoved(AddrInfo),
    /// Routes and rules tagged proto keepalived only (the ones that may be ours).
    RouteAdded(RouteKey),
    RouteRemoved(RouteKey),
    RuleAdded(RuleKey),
    RuleRemoved(RuleKey),
}

/// A virtual address to add. IPv6 ones are added without duplicate address detection
/// (IFA_F_NODAD): a master must answer for its address at once, and the address is expected
/// on the backups' side of the link too, only not configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VipSpec<'a> {
    pub ifindex: u32,
    pub addr: IpAddr,
    pub prefix_len: u8,
    /// IPv4 only.
    pub brd: Option<Ipv4Addr>,
    /// RT_SCOPE_* (0 global, 253 link, 254 host).
    pub scope: u8,
    /// Must start with the interface's name, as `ip` and ifconfig aliases expect.
    pub label: Option<&'a str>,
}

/// Room for one reply datagram. The kernel sizes dump datagrams to the reader's buffer (up to
/// 32 KiB), and a link message without counters is a few hundred bytes.
const REQUEST_BUF: usize = 16 * 1024;
/// Room for one event datagram: the kernel sends each event on its own.
const MONITOR_BUF: usize = 8 * 1024;
/// Asking for a kernel socket buffer this big makes overflow under event bursts unlikely.
const MONITOR_RCVBUF: libc::c_int = 256 * 1024;
/// A dump that races with changes is marked interrupted; redo it this many times at most.
const DUMP_TRIES: usize = 4;

/// A receive buffer, 4-byte aligned like the netlink structures in it.
#[repr(C, align(4))]
struct Buf<const N: usize>([u8; N]);

impl<const N: usize> Buf<N> {
    fn boxed() -> Box<Self> {
        Box::new(Buf([0; N]))
    }
}

/// The request/response socket. Blocking, with a 1 s receive timeout so that a kernel that does
/// not answer cannot hang the daemon.
pub struct Netlink {
    fd: OwnedFd,
    seq: u32,
    buf: Box<Buf<REQUEST_BUF>>,
}

impl Netlink {
    pub fn open() -> io::Result<Netlink> {
        let fd = os::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        )?;
        // SAFETY: timeval is plain integers (plus padding on some targets); zero is valid.
        let mut timeout: libc::timeval = unsafe { std::mem::zeroed() };
        timeout.tv_sec = 1;
        os::setsockopt(&fd, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &timeout)?;
        // Acks then carry only the request's header, not the whole request; old kernels
        // without the option just send more, which we handle too.
        let one: libc::c_int = 1;
        let _ = os::setsockopt(&fd, SOL_NETLINK, NETLINK_CAP_ACK, &one);
        // Errors then carry the kernel's reason as text, which we log.
        let _ = os::setsockopt(&fd, SOL_NETLINK, NETLINK_EXT_ACK, &one);
        bind(&fd, 0)?;
        Ok(Netlink {
            fd,
            seq: 0,
            buf: Buf::boxed(),
        })
    }

    /// Adds `vip`. Already present (EEXIST) counts as success.
    pub fn add_addr(&mut self, vip: &VipSpec) -> io::Result<()> {
        check_prefix(vip.addr, vip.prefix_len)?;
        if let Some(label) = vip.label {
            check_label(label, vip.ifindex)?;
        }
        let seq = self.next_seq();
        let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
        let mut req = Request::new(RTM_NEWADDR, flags, seq);
        let v6 = vip.addr.is_ipv6();
        let ifa_flags = if v6 { IFA_F_NODAD as u8 } else { 0 };
        req.push(&ifaddrmsg(
            vip.addr,
            vip.prefix_len,
            ifa_flags,
            vip.scope,
            vip.ifindex,
        ))?;
        let octets = addr_octets(&vip.addr);
        if v6 {
            // IPv6 has no peer address: IFA_LOCAL alone would be refused on some kernels.
            req.attr(IFA_ADDRESS, &octets)?;
        } else {
            req.attr(IFA_LOCAL, &octets)?;
            req.attr(IFA_ADDRESS, &octets)?;
        }
        if let Some(brd) = vip.brd.filter(|_| !v6) {
            req.attr(IFA_BROADCAST, &brd.octets())?;
        }
        if let Some(label) = vip.label {
            let mut name = [0u8; libc::IFNAMSIZ];
            // check_label made sure it fits with its NUL.
            name[..label.len()].copy_from_slice(label.as_bytes());
            req.attr(IFA_LABEL, &name[..=label.len()])?;
        }
        self.transact(&mut req, seq, libc::EEXIST)
    }

    /// Removes `addr`/`prefix_len` from interface `ifindex`. Already absent (EADDRNOTAVAIL)
    /// counts as success.
    pub fn del_addr(&mut self, ifindex: u32, addr: IpAddr, prefix_len: u8) -> io::Result<()> {
        check_prefix(addr, prefix_len)?;
        let seq = self.next_seq();
        let mut req = Request::new(RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK, seq);
        req.push(&ifaddrmsg(addr, prefix_len, 0, 0, ifindex))?;
        let octets = addr_octets(&addr);
        if addr.is_ipv4() {
            req.attr(IFA_LOCAL, &octets)?;
        }
        // With IFA_ADDRESS present the kernel also matches the prefix length, so an
        // administrator's same address with another prefix is left alone.
        req.attr(IFA_ADDRESS, &octets)?;
        self.transact(&mut req, seq, libc::EADDRNOTAVAIL)
    }

    /// Adds a route. An identical one already there (EEXIST) counts as success.
    pub fn add_route(&mut self, r: &RouteSpec) -> io::Result<()> {
        let seq = self.next_seq();
        let mut req = route::route_request(r, true, seq)?;
        self.transact(&mut req, seq, libc::EEXIST)
    }

    /// Deletes a route. Already gone (ESRCH) counts as success.
    pub fn del_route(&mut self, r: &RouteSpec) -> io::Result<()> {
        let seq = self.next_seq();
        let mut req = route::route_request(r, false, seq)?;
        self.transact(&mut req, seq, libc::ESRCH)
    }

    /// Adds a rule. An identical one already there (EEXIST) counts as success.
    pub fn add_rule(&mut self, r: &RuleSpec) -> io::Result<()> {
        let seq = self.next_seq();
        let mut req = route::rule_request(r, true, seq)?;
        self.transact(&mut req, seq, libc::EEXIST)
    }

    /// Deletes a rule. Already gone (ENOENT) counts as success.
    pub fn del_rule(&mut self, r: &RuleSpec) -> io::Result<()> {
        let seq = self.next_seq();
        let mut req = route::rule_request(r, false, seq)?;
        self.transact(&mut req, seq, libc::ENOENT)
    }

    /// Calls `f` for every IPv4 and IPv6 route of ours (proto keepalived), in every table.
    pub fn dump_routes(&mut self, f: &mut dyn FnMut(RouteKey)) -> io::Result<()> {
        self.dump(RTM_GETROUTE, &mut |ev| {
            if let Event::RouteAdded(k) = ev {
                f(k)
            }
        })
    }

    /// Calls `f` for every IPv4 and IPv6 rule of ours (proto keepalived).
    pub fn dump_rules(&mut self, f: &mut dyn FnMut(RuleKey)) -> io::Result<()> {
        self.dump(RTM_GETRULE, &mut |ev| {
            if let Event::RuleAdded(k) = ev {
                f(k)
            }
        })
    }

    /// Calls `f` for every link. If links change during the dump, the dump is redone, so `f`
    /// may see a link more than once; the later report is the current one.
    pub fn dump_links(&mut self, f: &mut dyn FnMut(LinkInfo)) -> io::Result<()> {
        self.dump(RTM_GETLINK, &mut |ev| {
            if let Event::Link(link) = ev {
                f(link)
            }
        })
    }

    /// Calls `f` for every IPv4 and IPv6 address, with the same redo rule as `dump_links`.
    pub fn dump_addrs(&mut self, f: &mut dyn FnMut(AddrInfo)) -> io::Result<()> {
        self.dump(RTM_GETADDR, &mut |ev| {
            if let Event::AddrAdded(addr) = ev {
                f(addr)
            }
        })
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    fn send(&self, req: &mut Request) -> io::Result<()> {
        let bytes = req.bytes();
        let sent = os::retry(|| os::sendto(&self.fd, bytes, &kernel_addr()))?;
        if sent != bytes.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "netlink: request only partly sent",
            ));
        }
        Ok(())
    }

    /// Reads one datagram from the kernel; its length, never more than the buffer.
    fn recv(&mut self) -> io::Result<usize> {
        loop {
            match os::retry(|| recv_from_kernel(&self.fd, &mut self.buf.0)) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "netlink: no answer from the kernel within 1 s",
                    ));
                }
                Err(e) => return Err(e),
                // Not from the kernel: someone else wrote to our port; ignore it.
                Ok(None) => continue,
                Ok(Some(n)) if n > REQUEST_BUF => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "netlink: reply larger than the receive buffer",
                    ));
                }
                Ok(Some(n)) => return Ok(n),
            }
        }
    }

    /// Sends a request that asked for an ACK and waits for the answer with our sequence number.
    /// The errno `benign` counts as success.
    fn transact(&mut self, req: &mut Request, seq: u32, benign: i32) -> io::Result<()> {
        self.send(req)?;
        loop {
            let n = self.recv()?;
            for msg in Messages::new(&self.buf.0[..n]) {
                let msg = msg.map_err(invalid_data)?;
                // Replies to an earlier request that timed out carry older numbers.
                if msg.header.seq != seq || msg.header.ty != NLMSG_ERROR {
                    continue;
                }
                return match ack_result(msg.payload) {
                    Err(e) if e.raw_os_error() == Some(benign) => Ok(()),
                    Err(e) => {
                        // The errno stays the error's value; the kernel's own words go to the log.
                        if let Some(why) = ext_ack_message(msg.header.flags, msg.payload) {
                            log::warn!("netlink request failed ({e}): {why}");
                        }
                        Err(e)
                    }
                    ok => ok,
                };
            }
        }
    }

    /// Runs one dump request of type `ty` and hands each decoded event to `f`.
    fn dump(&mut self, ty: u16, f: &mut dyn FnMut(Event)) -> io::Result<()> {
        for _ in 0..DUMP_TRIES {
            let seq = self.next_seq();
            let mut req = Request::new(ty, NLM_F_REQUEST | NLM_F_DUMP, seq);
            if ty == RTM_GETLINK {
                req.push(&[0u8; IFINFOMSG_LEN])?;
                req.attr(IFLA_EXT_MASK, &RTEXT_FILTER_SKIP_STATS.to_ne_bytes())?;
            } else if ty == RTM_GETROUTE || ty == RTM_GETRULE {
                // AF_UNSPEC: IPv4 and IPv6 (and other families, which the decoders skip).
                req.push(&[AF_UNSPEC; RTMSG_LEN])?;
            } else {
                // AF_UNSPEC: the addresses of every family.
                let mut all = [0u8; IFADDRMSG_LEN];
                all[0] = AF_UNSPEC;
                req.push(&all)?;
            }
            self.send(&mut req)?;
            if !self.read_dump(seq, f)? {
                return Ok(());
            }
            log::debug!("netlink dump raced with a change; dumping again");
        }
        Err(io::Error::new(
            io::ErrorKind::Interrupted,
            "netlink: dump kept changing under us",
        ))
    }

    /// Reads the replies of dump `seq` up to NLMSG_DONE; true if the kernel flagged the dump as
    /// inconsistent.
    fn read_dump(&mut self, seq: u32, f: &mut dyn FnMut(Event)) -> io::Result<bool> {
        let mut interrupted = false;
        loop {
            let n = self.recv()?;
            for msg in Messages::new(&self.buf.0[..n]) {
                let msg = msg.map_err(invalid_data)?;
                if msg.header.seq != seq {
                    continue;
                }
                interrupted |= msg.header.flags & NLM_F_DUMP_INTR != 0;
                match msg.header.ty {
                    NLMSG_DONE => return Ok(interrupted),
                    NLMSG_ERROR => {
                        // A dump ends with DONE; an error message here is a refusal.
                        ack_result(msg.payload)?;
                        return Ok(interrupted);
                    }
                    _ => match decode_event(&msg) {
                        Ok(Some(ev)) => f(ev),
                        Ok(None) => {}
                        Err(e) => log::debug!("skipping a dumped netlink message: {e}"),
                    },
                }
            }
        }
    }
}

impl AsRawFd for Netlink {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// The event socket: non-blocking, subscribed to link and address changes.
pub struct Monitor {
    fd: OwnedFd,
    buf: Box<Buf<MONITOR_BUF>>,
}

impl Monitor {
    pub fn open() -> io::Result<Monitor> {
        let fd = os::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        )?;
        // Best effort: the default buffer is enough for a quiet router, and the daemon re-dumps
        // after an overflow anyway.
        let _ = os::setsockopt(&fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &MONITOR_RCVBUF);
        bind(&fd, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR)?;
        Ok(Monitor {
            fd,
            buf: Buf::boxed(),
        })
    }

    /// Also reports IPv4 and IPv6 route and rule changes (only those tagged proto keepalived
    /// reach the caller), for a configuration that installs routes or rules.
    pub fn watch_routes(&self) -> io::Result<()> {
        let groups = [
            RTNLGRP_IPV4_ROUTE,
            RTNLGRP_IPV4_RULE,
            RTNLGRP_IPV6_ROUTE,
            RTNLGRP_IPV6_RULE,
        ];
        for group in groups {
            os::setsockopt(&self.fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group)?;
        }
        Ok(())
    }

    /// Hands every queued event to `f`, reading until the socket is empty (as edge-triggered
    /// polling requires). Events were lost if this fails with raw_os_error ENOBUFS: the queue
    /// overflowed, or a datagram did not fit our buffer. The caller should then dump again.
    pub fn recv(&mut self, f: &mut dyn FnMut(Event)) -> io::Result<()> {
        loop {
            match os::retry(|| recv_from_kernel(&self.fd, &mut self.buf.0)) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
                Ok(None) => continue,
                Ok(Some(n)) => {
                    let fits = n.min(MONITOR_BUF);
                    if let Err(e) = parse_messages(&self.buf.0[..fits], f) {
                        log::debug!("rest of a netlink event datagram skipped: {e}");
                    }
                    if n > MONITOR_BUF {
                        return Err(io::Error::from_raw_os_error(libc::ENOBUFS));
                    }
                }
            }
        }
    }
}

impl AsRawFd for Monitor {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// sockaddr_nl of the kernel (port 0, no groups).
fn kernel_addr() -> libc::sockaddr_nl {
    // SAFETY: sockaddr_nl is plain integers plus private padding; all-zero is valid.
    let mut sa: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    sa.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    sa
}

/// Binds to a kernel-chosen port, joining the multicast `groups`.
pub(super) fn bind(fd: &OwnedFd, groups: u32) -> io::Result<()> {
    let mut sa = kernel_addr();
    sa.nl_groups = groups;
    let len = std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
    // SAFETY: `sa` is a live sockaddr_nl of `len` bytes that the kernel only reads.
    let ret = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sa as *const libc::sockaddr_nl).cast(),
            len,
        )
    };
    os::cvt(ret).map(drop)
}

/// Receives one datagram. Returns its full length (which may exceed `buf`: MSG_TRUNC), or
/// `None` if it did not come from the kernel.
pub(super) fn recv_from_kernel(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<Option<usize>> {
    let mut from = kernel_addr();
    let mut from_len = std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
    // SAFETY: `buf` is a live, writable slice of `buf.len()` bytes, and `from`/`from_len` a live
    // sockaddr_nl and its size; the kernel writes no more than those sizes.
    let ret = unsafe {
        libc::recvfrom(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_TRUNC,
            (&mut from as *mut libc::sockaddr_nl).cast(),
            &mut from_len,
        )
    };
    let n = os::cvt_len(ret)?;
    Ok((from.nl_pid == 0).then_some(n))
}

/// The outcome an NLMSG_ERROR payload reports: error 0 is an ACK.
fn ack_result(payload: &[u8]) -> io::Result<()> {
    let err = read_i32(payload, 0).ok_or_else(|| invalid_data(ParseError::Truncated))?;
    match err {
        0 => Ok(()),
        // The kernel sends -errno.
        e => Err(io::Error::from_raw_os_error(e.checked_neg().unwrap_or(e))),
    }
}

/// The kernel's explanation attached to an NLMSG_ERROR (extended ACK), if it sent one.
fn ext_ack_message(flags: u16, payload: &[u8]) -> Option<&str> {
    if flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    // After the errno comes the failed request: just its header when capped, else all of it.
    let request_len = if flags & NLM_F_CAPPED != 0 {
        NLMSG_HDRLEN
    } else {
        read_u32(payload, 4)? as usize
    };
    let tlvs = payload.get(4usize.checked_add(align4(request_len))?..)?;
    for attr in Attrs::new(tlvs) {
        if let (NLMSGERR_ATTR_MSG, data) = attr.ok()? {
            let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
            return core::str::from_utf8(&data[..end]).ok();
        }
    }
    None
}

/// struct ifaddrmsg for `addr`'s family.
fn ifaddrmsg(
    addr: IpAddr,
    prefix_len: u8,
    flags: u8,
    scope: u8,
    ifindex: u32,
) -> [u8; IFADDRMSG_LEN] {
    let mut m = [0u8; IFADDRMSG_LEN];
    m[0] = if addr.is_ipv6() { AF_INET6 } else { AF_INET };
    m[1] = prefix_len;
    m[2] = flags;
    m[3] = scope;
    m[4..].copy_from_slice(&ifindex.to_ne_bytes());
    m
}

/// 4 or 16 bytes in network order, as address attributes carry them.
fn addr_octets(addr: &IpAddr) -> heapless::Vec<u8, 16> {
    match addr {
        IpAddr::V4(a) => a.octets().into_iter().collect(),
        IpAddr::V6(a) => a.octets().into_iter().collect(),
    }
}

fn check_prefix(addr: IpAddr, prefix_len: u8) -> io::Result<()> {
    let (family, max) = if addr.is_ipv6() {
        ("IPv6", 128)
    } else {
        ("IPv4", 32)
    };
    if prefix_len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{family} prefix length {prefix_len} is over {max}"),
        ));
    }
    Ok(())
}

/// A link name the kernel accepts: 1 to 15 bytes, no NUL, '/', ':' or white space.
fn check_name(name: &str) -> io::Result<()> {
    let bad = |c: char| c == '\0' || c == '/' || c == ':' || c.is_whitespace();
    if name.is_empty() || name.len() >= libc::IFNAMSIZ || name.contains(bad) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad interface name {name:?}"),
        ));
    }
    Ok(())
}

/// A label must fit IFNAMSIZ with its NUL and start with the interface name (ifconfig-style
/// aliases such as "eth0:1"; `ip` and the kernel's ioctl interface rely on it).
fn check_label(label: &str, ifindex: u32) -> io::Result<()> {
    let bad = |why: String| Err(io::Error::new(io::ErrorKind::InvalidInput, why));
    if label.len() >= libc::IFNAMSIZ || label.contains('\0') {
        return bad(format!("label {label:?} is longer than 15 bytes"));
    }
    let name = ifname(ifindex)?;
    if !label.starts_with(name.as_str()) {
        return bad(format!(
            "label {label:?} must start with the interface name {name:?}"
        ));
    }
    Ok(())
}

/// The index of interface `name`, if it exists now.
pub fn ifindex(name: &str) -> Option<u32> {
    let mut buf = [0u8; libc::IFNAMSIZ];
    buf.get_mut(..name.len())?.copy_from_slice(name.as_bytes());
    if name.len() >= libc::IFNAMSIZ || name.contains('\0') {
        return None;
    }
    // SAFETY: `buf` is a NUL-terminated name (checked above) that the call only reads.
    let i = unsafe { libc::if_nametoindex(buf.as_ptr().cast()) };
    (i != 0).then_some(i)
}

/// The current name of interface `ifindex`.
fn ifname(ifindex: u32) -> io::Result<heapless::String<16>> {
    let mut buf = [0 as libc::c_char; libc::IFNAMSIZ];
    // SAFETY: `buf` has the IFNAMSIZ bytes if_indextoname may write (name plus NUL).
    let ret = unsafe { libc::if_indextoname(ifindex, buf.as_mut_ptr()) };
    if ret.is_null() {
        return Err(io::Error::last_os_error());
    }
    let bytes = buf.map(|c| c as u8);
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    core::str::from_utf8(&bytes[..end])
        .ok()
        .and_then(|s| heapless::String::try_from(s).ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "interface name not UTF-8"))
}

fn invalid_data(e: ParseError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}
