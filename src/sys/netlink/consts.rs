//! rtnetlink numbers from the kernel's uapi headers (linux/netlink.h, linux/rtnetlink.h,
//! linux/if_link.h, linux/if_addr.h). They are ABI, so they never change; defining them here
//! keeps us independent of which of them a given libc target happens to export.

pub const NLMSG_HDRLEN: usize = 16;
pub const RTA_HDRLEN: usize = 4;
pub const IFINFOMSG_LEN: usize = 16;
pub const IFADDRMSG_LEN: usize = 8;

pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;

pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_ACK: u16 = 0x4;
pub const NLM_F_DUMP_INTR: u16 = 0x10;
pub const NLM_F_DUMP: u16 = 0x300;
pub const NLM_F_EXCL: u16 = 0x200;
pub const NLM_F_CREATE: u16 = 0x400;
pub const NLM_F_APPEND: u16 = 0x800;
/// Flags of an NLMSG_ERROR: the request copy is only its header; attributes follow.
pub const NLM_F_CAPPED: u16 = 0x100;
pub const NLM_F_ACK_TLVS: u16 = 0x200;
/// Extended-ACK attribute holding the error text.
pub const NLMSGERR_ATTR_MSG: u16 = 1;

pub const RTM_NEWLINK: u16 = 16;
pub const RTM_DELLINK: u16 = 17;
pub const RTM_GETLINK: u16 = 18;
pub const RTM_NEWADDR: u16 = 20;
pub const RTM_DELADDR: u16 = 21;
pub const RTM_GETADDR: u16 = 22;

/// Multicast groups for bind(): link changes and IPv4 address changes.
pub const RTMGRP_LINK: u32 = 0x1;
pub const RTMGRP_IPV4_IFADDR: u32 = 0x10;
pub const RTMGRP_IPV6_IFADDR: u32 = 0x100;

/// setsockopt level and the option that trims the request copy out of ACK messages.
pub const SOL_NETLINK: libc::c_int = 270;
pub const NETLINK_CAP_ACK: libc::c_int = 10;
/// ... and the one that has errors carry a text reason.
pub const NETLINK_EXT_ACK: libc::c_int = 11;

/// rtattr types carry two flag bits (nested, byte order) above the type proper.
pub const NLA_TYPE_MASK: u16 = 0x3fff;

pub const IFLA_ADDRESS: u16 = 1;
pub const IFLA_IFNAME: u16 = 3;
pub const IFLA_LINK: u16 = 5;
pub const IFLA_LINKINFO: u16 = 18;
pub const IFLA_AF_SPEC: u16 = 26;
pub const IFLA_EXT_MASK: u16 = 29;
/// Inside IFLA_LINKINFO: the driver's name, and its own attributes.
pub const IFLA_INFO_KIND: u16 = 1;
pub const IFLA_INFO_DATA: u16 = 2;
/// Inside macvlan's IFLA_INFO_DATA.
pub const IFLA_MACVLAN_MODE: u16 = 1;
/// Bridge mode (FRR's choice). In private mode (keepalived's) the kernel hands a multicast
/// frame whose source is the macvlan's own MAC to that macvlan alone, never to the parent, so
/// a master would not hear another master's adverts from the same virtual MAC.
pub const MACVLAN_MODE_BRIDGE: u32 = 4;
/// Inside IFLA_AF_SPEC / AF_INET6.
pub const IFLA_INET6_ADDR_GEN_MODE: u16 = 8;
pub const IN6_ADDR_GEN_MODE_NONE: u8 = 1;
/// IFLA_EXT_MASK bit: leave the counters out of link dumps (smaller replies; ignored by
/// kernels that predate it).
pub const RTEXT_FILTER_SKIP_STATS: u32 = 1 << 3;

pub const IFA_ADDRESS: u16 = 1;
pub const IFA_LOCAL: u16 = 2;
pub const IFA_LABEL: u16 = 3;
pub const IFA_BROADCAST: u16 = 4;
pub const IFA_FLAGS: u16 = 8;
pub const IFA_F_SECONDARY: u32 = 0x01;
pub const IFA_F_NODAD: u32 = 0x02;
pub const IFA_F_DADFAILED: u32 = 0x08;
pub const IFA_F_TENTATIVE: u32 = 0x40;

pub const IFF_UP: u32 = 0x1;
pub const IFF_RUNNING: u32 = 0x40;

pub const AF_UNSPEC: u8 = 0;
pub const AF_INET: u8 = 2;
pub const AF_INET6: u8 = 10;

pub const RTM_NEWROUTE: u16 = 24;
pub const RTM_DELROUTE: u16 = 25;
pub const RTM_GETROUTE: u16 = 26;
pub const RTM_NEWRULE: u16 = 32;
pub const RTM_DELRULE: u16 = 33;
pub const RTM_GETRULE: u16 = 34;
/// struct rtmsg and struct fib_rule_hdr are both 12 bytes.
pub const RTMSG_LEN: usize = 12;
pub const RTNEXTHOP_LEN: usize = 8;

/// Multicast groups (for NETLINK_ADD_MEMBERSHIP): IPv4 routes and IPv4 rules.
pub const RTNLGRP_IPV4_ROUTE: libc::c_int = 7;
pub const RTNLGRP_IPV4_RULE: libc::c_int = 8;
pub const RTNLGRP_IPV6_ROUTE: libc::c_int = 11;
pub const RTNLGRP_IPV6_RULE: libc::c_int = 19;
pub const NETLINK_ADD_MEMBERSHIP: libc::c_int = 1;

pub const RTA_DST: u16 = 1;
pub const RTA_SRC: u16 = 2;
pub const RTA_OIF: u16 = 4;
pub const RTA_GATEWAY: u16 = 5;
pub const RTA_PRIORITY: u16 = 6;
pub const RTA_PREFSRC: u16 = 7;
pub const RTA_MULTIPATH: u16 = 9;
pub const RTA_TABLE: u16 = 15;
pub const RTA_PREF: u16 = 20;
pub const RTNH_F_ONLINK: u8 = 4;
pub const RT_SCOPE_NOWHERE: u8 = 255;

pub const FRA_DST: u16 = 1;
pub const FRA_SRC: u16 = 2;
pub const FRA_IIFNAME: u16 = 3;
pub const FRA_GOTO: u16 = 4;
pub const FRA_PRIORITY: u16 = 6;
pub const FRA_FWMARK: u16 = 10;
pub const FRA_SUPPRESS_PREFIXLEN: u16 = 14;
pub const FRA_TABLE: u16 = 15;
pub const FRA_FWMASK: u16 = 16;
pub const FRA_OIFNAME: u16 = 17;
pub const FRA_L3MDEV: u16 = 19;
pub const FRA_UID_RANGE: u16 = 20;
pub const FRA_PROTOCOL: u16 = 21;
pub const FRA_IP_PROTO: u16 = 22;
pub const FRA_SPORT_RANGE: u16 = 23;
pub const FRA_DPORT_RANGE: u16 = 24;
pub const FIB_RULE_INVERT: u32 = 0x2;
