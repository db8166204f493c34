//! vrrp
