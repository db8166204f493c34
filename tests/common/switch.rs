//! nftables on the lab's bridge: rules loaded into the switch namespace and their named
//! counters read back (what a port sent, what was dropped).

use super::Lab;
use super::run::must;
use super::tools::t;

impl Lab {
    /// Loads an nft ruleset (`nft -f`) into the switch namespace.
    pub fn sw_nft(&self, rules: &str) {
        let file = self.write(&format!("sw-{}.nft", self.next()), rules);
        let nft = t().nft.display().to_string();
        let sw = self.sw();
        let file = file.display().to_string();
        must(&t().ip, &["netns", "exec", &sw, &nft, "-f", &file]);
    }

    /// Packets counted so far by the named counter `name` of bridge table `table`.
    pub fn sw_counter(&self, table: &str, name: &str) -> u64 {
        let nft = t().nft.display().to_string();
        let sw = self.sw();
        let out = must(
            &t().ip,
            &[
                "netns", "exec", &sw, &nft, "list", "counter", "bridge", table, name,
            ],
        )
        .stdout;
        let words: Vec<&str> = out.split_whitespace().collect();
        words
            .iter()
            .position(|w| *w == "packets")
            .and_then(|p| words.get(p + 1))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no packet count in {out}"))
    }
}

impl Lab {
    /// `ip -n ROUTER_i ARGS…` that may fail (a link that should be gone).
    pub fn try_ip(&self, i: usize, args: &[&str]) -> super::Ran {
        let ns = self.ns(i);
        let mut argv = vec!["-n", ns.as_str()];
        argv.extend_from_slice(args);
        super::run::run(&t().ip, &argv)
    }
}
