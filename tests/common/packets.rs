//! Sending and hearing VRRP from inside a lab namespace, without tcpdump: a thread that has
//! entered the namespace, vrrpd's own raw socket, and hand-made adverts.

use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::thread::JoinHandle;
use std::time::Instant;

use vrrpd::sys::raw::VrrpSocket;
use vrrpd::wire::ipv4;
use vrrpd::wire::vrrp::{self, Checksum, MULTICAST_V4};

/// Runs `body` on a new thread that has entered network namespace `ns` (namespaces are per
/// thread, so the rest of the test stays where it was).
pub fn in_netns<T: Send + 'static>(
    ns: &str,
    body: impl FnOnce() -> T + Send + 'static,
) -> JoinHandle<T> {
    let path = format!("/run/netns/{ns}");
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) => panic!("cannot open {path}: {e}"),
    };
    std::thread::spawn(move || {
        // SAFETY: setns on a namespace file we hold open; it moves only this thread.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
        body()
    })
}

/// The index of `ifname` in the calling thread's namespace.
fn ifindex(ifname: &str) -> u32 {
    let c = match std::ffi::CString::new(ifname) {
        Ok(c) => c,
        Err(e) => panic!("bad interface name {ifname:?}: {e}"),
    };
    // SAFETY: a valid NUL-terminated string.
    let ifindex = unsafe { libc::if_nametoindex(c.as_ptr()) };
    assert_ne!(ifindex, 0, "no interface {ifname}");
    ifindex
}

/// A raw VRRP socket on `ifname` in the calling thread's namespace.
pub fn vrrp_socket(ifname: &str) -> VrrpSocket {
    match VrrpSocket::open(ifname, ifindex(ifname)) {
        Ok(s) => s,
        Err(e) => panic!("cannot open a VRRP socket on {ifname}: {e}"),
    }
}

/// An advert in an IPv4 header, as a forger puts it on the wire: `src`, `dst` and `ttl` are
/// whatever the test wants them to be.
pub fn forge_v4(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ttl: u8,
    advert: &vrrp::Repr,
    how: Checksum,
) -> Vec<u8> {
    let ip = ipv4::Repr {
        src,
        dst,
        protocol: ipv4::PROTOCOL_VRRP,
        ttl,
        payload_len: advert.buffer_len(),
    };
    let mut buf = vec![0u8; ip.buffer_len()];
    let (head, body) = buf.split_at_mut(ipv4::HEADER_LEN);
    ip.emit(&mut ipv4::Packet::new_unchecked(head));
    advert.emit(&mut vrrp::Packet::new_unchecked(body), how);
    buf
}

/// One VRRP packet heard by `listen`.
#[derive(Clone, Copy, Debug)]
pub struct Heard {
    pub at: Instant,
    pub src: Ipv4Addr,
    /// The VRID byte, when the packet is long enough to have one.
    pub vrid: Option<u8>,
    /// The priority byte, likewise.
    pub priority: Option<u8>,
}

/// Records the VRRP packets from `from` (multicast 224.0.0.18 or to us) reaching `ifname` in
/// namespace `ns`, with their arrival time, until `done()` says stop. Only `from`: a flood sent
/// from the same namespace loops back, and keeping it all would cost memory for nothing.
pub fn listen(
    ns: &str,
    ifname: &str,
    from: Ipv4Addr,
    done: impl Fn() -> bool + Send + 'static,
) -> JoinHandle<Vec<Heard>> {
    let ifname = ifname.to_string();
    in_netns(ns, move || {
        let sock = vrrp_socket(&ifname);
        if let Err(e) = sock.join(MULTICAST_V4, ifindex(&ifname)) {
            panic!("cannot join the VRRP group on {ifname}: {e}");
        }
        let mut heard = Vec::new();
        let mut buf = [0u8; 2048];
        while !done() {
            let mut pfd = libc::pollfd {
                fd: sock.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one live pollfd.
            unsafe { libc::poll(&mut pfd, 1, 50) };
            while let Ok(n) = sock.recv(&mut buf) {
                let at = Instant::now();
                let Ok(ip) = ipv4::Packet::new_checked(&buf[..n]) else {
                    continue;
                };
                if ip.src_addr() != from {
                    continue;
                }
                heard.push(Heard {
                    at,
                    src: ip.src_addr(),
                    vrid: ip.payload().get(1).copied(),
                    priority: ip.payload().get(2).copied(),
                });
            }
        }
        heard
    })
}
