//! One virtual router, one daemon: while an instance runs, it holds an abstract unix socket
//! named after its interface, address family and VRID. Abstract names belong to the network
//! namespace and go away with the socket, so a second vrrpd in the same namespace finds the
//! name taken, and no stale lock survives a crash or SIGKILL. (A pid file cannot do this: two
//! daemons with different pid files would both become master and fight over the VIPs.)

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Prefix of every claim's name (after the leading NUL of the abstract namespace).
const PREFIX: &str = "vrrpd/";

/// A held claim; dropping it releases the name.
#[derive(Debug)]
pub struct Claim {
    fd: OwnedFd,
}

impl Claim {
    /// Claims VRID `vrid` of `family` ("ipv4", "ipv6") on `interface` in this network namespace.
    /// `ErrorKind::AddrInUse` when another process (or another claim of ours) holds it.
    pub fn take(interface: &str, family: &str, vrid: u8) -> io::Result<Claim> {
        let name = format!("{PREFIX}{interface}/{family}/{vrid}");
        // SAFETY: socket(2) with constant arguments; the result is checked.
        let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a descriptor we just got and own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: sockaddr_un is plain data; all zeroes is a valid value.
        let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
        addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
        // sun_path[0] stays 0: the abstract namespace. Interface names are at most 15 bytes,
        // so the name always fits; refuse rather than truncate if it ever does not.
        let path = &mut addr.sun_path[1..];
        if name.len() > path.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "claim name too long",
            ));
        }
        for (d, s) in path.iter_mut().zip(name.bytes()) {
            *d = s as libc::c_char;
        }
        let len = std::mem::size_of::<libc::sa_family_t>() + 1 + name.len();
        // SAFETY: `addr` is a valid sockaddr_un and `len` does not exceed its size.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&raw const addr).cast::<libc::sockaddr>(),
                len as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        // Never listen(): nobody can connect, so nothing can be queued on it.
        Ok(Claim { fd })
    }
}

impl AsRawFd for Claim {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_is_exclusive_until_dropped() {
        // A name no real daemon uses, and unique per test run.
        let iface = format!("t{}", std::process::id());
        let a = Claim::take(&iface, "ipv4", 51).expect("first claim");
        let again = Claim::take(&iface, "ipv4", 51).expect_err("second claim");
        assert_eq!(again.kind(), io::ErrorKind::AddrInUse);
        // Another VRID or family is another virtual router.
        let b = Claim::take(&iface, "ipv4", 52).expect("other vrid");
        let c = Claim::take(&iface, "ipv6", 51).expect("other family");
        drop(a);
        let a2 = Claim::take(&iface, "ipv4", 51).expect("claim after release");
        drop((a2, b, c));
    }
}
