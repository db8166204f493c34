//! Giving up root's other powers once the daemon runs. After start-up vrrpd only sends and
//! receives raw packets (CAP_NET_RAW) and adds and removes addresses (CAP_NET_ADMIN); a bug
//! that lets a packet take over the process then cannot read files, load modules, trace
//! processes or change owners. Capabilities are per thread in Linux: call this from the one
//! thread the daemon runs on, before any other thread exists.

use std::io;

use super::os::cvt;

/// Capability numbers from <linux/capability.h>.
pub const CAP_NET_ADMIN: u32 = 12;
pub const CAP_NET_RAW: u32 = 13;

/// What vrrpd keeps.
pub const KEEP: [u32; 2] = [CAP_NET_ADMIN, CAP_NET_RAW];

/// `_LINUX_CAPABILITY_VERSION_3`: two 32-bit words per set, so capabilities 0..63.
const VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// The mask of `KEEP` as one 64-bit set.
pub fn keep_mask() -> u64 {
    KEEP.iter().fold(0, |m, &c| m | 1u64 << c)
}

/// Keeps only [`KEEP`] in the permitted and effective sets and in the bounding set (so no later
/// exec can get the others back); clears the inheritable and ambient sets. Needs CAP_SETPCAP
/// for the bounding set, so run it as root and before anything else drops privileges.
pub fn keep_only_net() -> io::Result<()> {
    let keep = keep_mask();
    // The bounding set first: dropping from it needs CAP_SETPCAP, which capset removes below.
    for cap in 0..64u32 {
        if keep & (1u64 << cap) != 0 {
            continue;
        }
        // SAFETY: PR_CAPBSET_READ takes an integer and touches none of our memory.
        let present = unsafe { libc::prctl(libc::PR_CAPBSET_READ, cap as libc::c_ulong, 0, 0, 0) };
        if present < 0 {
            // EINVAL: no such capability on this kernel, and none above it either.
            break;
        }
        if present == 1 {
            // SAFETY: as above, an integer argument only.
            cvt(unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) })?;
        }
    }
    // Ambient capabilities would survive an exec; old kernels without them answer EINVAL.
    // SAFETY: integer arguments only.
    let rc = unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
            0,
            0,
        )
    };
    if rc < 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINVAL) {
            return Err(e);
        }
    }
    let mut header = CapHeader {
        version: VERSION_3,
        pid: 0,
    };
    let words = [keep as u32, (keep >> 32) as u32];
    let data = words.map(|w| CapData {
        effective: w,
        permitted: w,
        inheritable: 0,
    });
    // SAFETY: capset reads one header and, for version 3, exactly two data structs, both
    // live and laid out as <linux/capability.h> declares them.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_capset,
            &mut header as *mut CapHeader,
            data.as_ptr(),
        )
    };
    cvt(rc as libc::c_int)?;
    Ok(())
}

/// The effective, permitted and bounding sets of the calling thread, from /proc.
pub fn current() -> io::Result<(u64, u64, u64)> {
    let status = std::fs::read_to_string("/proc/thread-self/status")?;
    let field = |name: &str| -> io::Result<u64> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, name.to_string()))
    };
    Ok((field("CapEff:")?, field("CapPrm:")?, field("CapBnd:")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_exactly_net_admin_and_net_raw() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("needs root to drop capabilities");
            }
            eprintln!("skipped: needs root");
            return;
        }
        // Capabilities are per thread: a thread of our own keeps the test runner untouched.
        let sets = std::thread::spawn(|| {
            keep_only_net().map_err(|e| e.to_string())?;
            current().map_err(|e| e.to_string())
        })
        .join()
        .expect("thread");
        assert_eq!(sets, Ok((0x3000, 0x3000, 0x3000)));
        assert_eq!(keep_mask(), 0x3000);
    }
}
