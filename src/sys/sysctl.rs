//! Per-interface settings under /proc/sys/net/ipv4/conf/IFNAME/ and /proc/sys/net/ipv6/conf/IFNAME/.

use std::io;

/// Sets `net.ipv4.conf.IFNAME.KEY` to `value`; the value it had if that was another.
pub fn set_ipv4_conf(ifname: &str, key: &str, value: u32) -> io::Result<Option<u32>> {
    set(&path(ifname, key)?, value)
}

/// Sets `net.ipv6.conf.IFNAME.KEY` to `value`; the value it had if that was another.
pub fn set_ipv6_conf(ifname: &str, key: &str, value: u32) -> io::Result<Option<u32>> {
    let path = path(ifname, key)?.replacen("/ipv4/", "/ipv6/", 1);
    set(&path, value)
}

fn set(path: &str, value: u32) -> io::Result<Option<u32>> {
    let old = read(path)?;
    if old == value {
        return Ok(None);
    }
    std::fs::write(path, format!("{value}\n"))?;
    Ok(Some(old))
}

/// Reads `net.ipv4.conf.IFNAME.KEY` (IFNAME may be "all" or "default").
pub fn ipv4_conf(ifname: &str, key: &str) -> io::Result<u32> {
    read(&path(ifname, key)?)
}

fn path(ifname: &str, key: &str) -> io::Result<String> {
    // The name becomes a path component: nothing that could leave the directory.
    let ok = |s: &str| !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\0']);
    if !ok(ifname) || !ok(key) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad sysctl name {ifname:?}/{key:?}"),
        ));
    }
    Ok(format!("/proc/sys/net/ipv4/conf/{ifname}/{key}"))
}

fn read(path: &str) -> io::Result<u32> {
    let text = std::fs::read_to_string(path)?;
    text.trim()
        .parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, format!("{path}: not a number")))
}

/// Whether interface `ifname` forwards IPv6 (`net.ipv6.conf.IF.forwarding`): a router sets
/// the Router flag in its neighbour advertisements. Unreadable counts as not forwarding.
pub fn ipv6_forwarding(ifname: &str) -> bool {
    if ifname.is_empty() || ifname.contains('/') || ifname.starts_with('.') {
        return false;
    }
    let path = format!("/proc/sys/net/ipv6/conf/{ifname}/forwarding");
    std::fs::read_to_string(path).is_ok_and(|v| v.trim() == "1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_escape_the_directory() {
        for (i, k) in [("..", "x"), ("a/b", "x"), ("lo", "../x"), ("", "x")] {
            assert_eq!(
                ipv4_conf(i, k).unwrap_err().kind(),
                io::ErrorKind::InvalidInput
            );
        }
    }

    #[test]
    fn reads_loopback() {
        // Every Linux has lo and its arp_ignore (0..=8).
        assert!(ipv4_conf("lo", "arp_ignore").unwrap() <= 8);
    }
}
