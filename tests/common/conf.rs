//! Config text for one VRRP instance, in the keepalived.conf dialect that both vrrpd and
//! keepalived read, so the same scenario can run against either daemon.

use super::router_ip;

/// The virtual address every scenario protects.
pub const VIP: &str = "10.99.0.100";

/// One `vrrp_instance` block. Build with `Vi::v3(prio)` / `Vi::v2(prio)` and struct update syntax.
#[derive(Clone, Debug)]
pub struct Vi {
    pub name: &'static str,
    pub state: &'static str,
    pub vrid: u8,
    pub priority: u8,
    pub version: u8,
    /// Seconds, as written in the file ("0.1", "1").
    pub advert_int: &'static str,
    /// `authentication { auth_type PASS auth_pass … }` when set (VRRPv2 only).
    pub auth_pass: Option<&'static str>,
    pub nopreempt: bool,
    pub preempt_delay: Option<u32>,
    /// `v3_checksum_as_v2`: the VRRPv3 checksum without the IPv4 pseudo-header.
    pub v3_checksum_as_v2: bool,
    /// `(unicast_src_ip, unicast_peer list)` when unicast.
    pub unicast: Option<(String, Vec<String>)>,
    /// `ADDR/LEN`, all on eth0.
    pub vips: Vec<String>,
}

impl Vi {
    /// VRRPv3, 0.1 s adverts (fast failover), VRID 51, VIP 10.99.0.100/24.
    pub fn v3(priority: u8) -> Vi {
        Vi {
            name: "VI_1",
            state: "BACKUP",
            vrid: 51,
            priority,
            version: 3,
            advert_int: "0.1",
            auth_pass: None,
            nopreempt: false,
            preempt_delay: None,
            v3_checksum_as_v2: false,
            unicast: None,
            vips: vec![format!("{VIP}/24")],
        }
    }

    /// VRRPv2, 1 s adverts, PASS authentication with "secret".
    pub fn v2(priority: u8) -> Vi {
        Vi {
            version: 2,
            advert_int: "1",
            auth_pass: Some("secret"),
            ..Vi::v3(priority)
        }
    }

    /// Unicast from router `me` to the routers in `peers` (1-based lab indices).
    pub fn unicast(self, me: usize, peers: &[usize]) -> Vi {
        Vi {
            unicast: Some((router_ip(me), peers.iter().map(|&p| router_ip(p)).collect())),
            ..self
        }
    }

    /// The instance block.
    pub fn render(&self) -> String {
        let mut s = format!("vrrp_instance {} {{\n", self.name);
        let mut line = |l: String| {
            s.push_str("    ");
            s.push_str(&l);
            s.push('\n');
        };
        line(format!("state {}", self.state));
        line("interface eth0".into());
        line(format!("virtual_router_id {}", self.vrid));
        line(format!("priority {}", self.priority));
        line(format!("advert_int {}", self.advert_int));
        line(format!("version {}", self.version));
        if self.nopreempt {
            line("nopreempt".into());
        }
        if let Some(d) = self.preempt_delay {
            line(format!("preempt_delay {d}"));
        }
        if self.v3_checksum_as_v2 {
            line("v3_checksum_as_v2".into());
        }
        if let Some(p) = self.auth_pass {
            line("authentication {".into());
            line("    auth_type PASS".into());
            line(format!("    auth_pass {p}"));
            line("}".into());
        }
        if let Some((src, peers)) = &self.unicast {
            line(format!("unicast_src_ip {src}"));
            line("unicast_peer {".into());
            for p in peers {
                line(format!("    {p}"));
            }
            line("}".into());
        }
        line("virtual_ipaddress {".into());
        for v in &self.vips {
            line(format!("    {v} dev eth0"));
        }
        line("}".into());
        s.push_str("}\n");
        s
    }
}

/// A whole config file holding these instances.
pub fn conf(instances: &[Vi]) -> String {
    let mut s = String::from("# written by the vrrpd test lab\n");
    for vi in instances {
        s.push_str(&vi.render());
    }
    s
}

impl Vi {
    /// advert_int in seconds.
    pub fn advert_secs(&self) -> f64 {
        self.advert_int.parse().unwrap_or(1.0)
    }

    /// Skew_Time: v2 (RFC 3768) (256-prio)/256 s; v3 (RFC 5798) scaled by the interval.
    pub fn skew(&self) -> std::time::Duration {
        let per = if self.version == 2 {
            1.0
        } else {
            self.advert_secs()
        };
        std::time::Duration::from_secs_f64(f64::from(256 - u16::from(self.priority)) * per / 256.0)
    }

    /// Master_Down_Interval: 3 × interval + Skew_Time.
    pub fn master_down(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(3.0 * self.advert_secs()) + self.skew()
    }
}

/// Slack added to every protocol deadline: the machine is shared and the polling is coarse.
pub const MARGIN: std::time::Duration = std::time::Duration::from_millis(1500);
