//! The OpenWrt packaging: `openwrt/build-ipk.sh` output, the procd init script and the feed
//! Makefile. Needs only bash, tar and gzip: the .ipk is built around a stand-in file, so no
//! cross build is involved.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// (target given to build-ipk.sh, opkg architecture it must choose)
const ARCHES: [(&str, &str); 5] = [
    ("mipsel-unknown-linux-musl", "mipsel_24kc"),
    ("mips-unknown-linux-musl", "mips_24kc"),
    ("armv7-unknown-linux-musleabihf", "arm_cortex-a7_neon-vfpv4"),
    ("aarch64-unknown-linux-musl", "aarch64_cortex-a53"),
    ("x86_64-unknown-linux-musl", "x86_64"),
];

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("vrrpd-package-{}-{tag}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(dir)
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(cmd: &mut Command) -> String {
    String::from_utf8(run(cmd).stdout).expect("utf-8 output")
}

fn repo(rel: &str) -> PathBuf {
    Path::new(ROOT).join(rel)
}

/// Builds an .ipk around a stand-in "binary" and returns its path.
fn build_ipk(s: &Scratch, target: &str, extra: &[&str]) -> PathBuf {
    let bin = s.path("stand-in");
    fs::write(&bin, b"\x7fELF stand-in for the vrrpd binary\n").expect("write stand-in");
    let out = stdout(
        Command::new("bash")
            .arg(repo("openwrt/build-ipk.sh"))
            .arg("-b")
            .arg(&bin)
            .arg("-o")
            .arg(s.path("out"))
            .args(extra)
            .arg(target),
    );
    let ipk = PathBuf::from(out.trim());
    assert!(ipk.is_file(), "build-ipk.sh printed {out:?}, not a file");
    ipk
}

/// One entry of `tar -tv`: mode string, owner/group, size, name.
#[derive(Debug)]
struct Entry {
    mode: String,
    owner: String,
    size: u64,
}

fn list(archive: &Path) -> BTreeMap<String, Entry> {
    let text = stdout(Command::new("tar").arg("-tvzf").arg(archive));
    let mut entries = BTreeMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert!(f.len() >= 6, "odd tar line {line:?}");
        let size = f[2].parse().expect("size column");
        let entry = Entry {
            mode: f[0].to_string(),
            owner: f[1].to_string(),
            size,
        };
        entries.insert(f[5..].join(" "), entry);
    }
    entries
}

fn extract(archive: &Path, into: &Path) {
    fs::create_dir_all(into).expect("mkdir");
    run(Command::new("tar")
        .arg("-xzf")
        .arg(archive)
        .arg("-C")
        .arg(into));
}

fn control_fields(text: &str) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    let mut last = String::new();
    for line in text.lines() {
        if let Some(cont) = line.strip_prefix(' ') {
            let v: &mut String = fields.get_mut(&last).expect("continuation after a field");
            v.push('\n');
            v.push_str(cont);
        } else {
            let (k, v) = line
                .split_once(": ")
                .unwrap_or_else(|| panic!("bad control line {line:?}"));
            last = k.to_string();
            assert!(
                fields.insert(last.clone(), v.to_string()).is_none(),
                "field {k} twice"
            );
        }
    }
    fields
}

#[test]
fn ipk_layout_control_and_conffiles() {
    let s = Scratch::new("layout");
    let ipk = build_ipk(&s, "mipsel-unknown-linux-musl", &[]);
    assert_eq!(
        ipk.file_name().and_then(|n| n.to_str()),
        Some(&*format!("vrrpd_{VERSION}-1_mipsel_24kc.ipk"))
    );

    // Outer archive: exactly the three members, in ipkg-build's order.
    let outer = stdout(Command::new("tar").arg("-tzf").arg(&ipk));
    assert_eq!(
        outer.lines().collect::<Vec<_>>(),
        ["./debian-binary", "./data.tar.gz", "./control.tar.gz"]
    );
    let top = s.path("ipk");
    extract(&ipk, &top);
    assert_eq!(
        fs::read_to_string(top.join("debian-binary")).expect("debian-binary"),
        "2.0\n"
    );

    // control.tar.gz: control, conffiles, and the maintainer scripts with their run bit.
    let ctl = list(&top.join("control.tar.gz"));
    let names: Vec<&str> = ctl
        .keys()
        .map(String::as_str)
        .filter(|n| *n != "./")
        .collect();
    assert_eq!(names, ["./conffiles", "./control", "./postinst", "./prerm"]);
    for (name, e) in &ctl {
        assert_eq!(e.owner, "0/0", "{name} owner");
    }
    assert_eq!(ctl["./postinst"].mode, "-rwxr-xr-x");
    assert_eq!(ctl["./prerm"].mode, "-rwxr-xr-x");
    let cdir = s.path("control");
    extract(&top.join("control.tar.gz"), &cdir);
    assert_eq!(
        fs::read_to_string(cdir.join("conffiles")).expect("conffiles"),
        "/etc/vrrpd.conf\n"
    );
    for script in ["postinst", "prerm"] {
        let text = fs::read_to_string(cdir.join(script)).expect("script");
        assert!(text.starts_with("#!/bin/sh\n"), "{script}: {text}");
        run(Command::new("sh").arg("-n").arg(cdir.join(script)));
    }

    // data.tar.gz: the three files, root-owned, the binary and init script executable.
    let data = list(&top.join("data.tar.gz"));
    let files: BTreeMap<&str, &Entry> = data
        .iter()
        .filter(|(_, e)| !e.mode.starts_with('d'))
        .map(|(n, e)| (n.as_str(), e))
        .collect();
    assert_eq!(
        files.keys().copied().collect::<Vec<_>>(),
        [
            "./etc/init.d/vrrpd",
            "./etc/vrrpd.conf",
            "./usr/libexec/rpcd/vrrpd",
            "./usr/sbin/vrrpd"
        ]
    );
    for (name, e) in &data {
        assert_eq!(e.owner, "0/0", "{name} owner");
    }
    assert_eq!(files["./usr/sbin/vrrpd"].mode, "-rwxr-xr-x");
    assert_eq!(files["./etc/init.d/vrrpd"].mode, "-rwxr-xr-x");
    assert_eq!(files["./usr/libexec/rpcd/vrrpd"].mode, "-rwxr-xr-x");
    assert_eq!(files["./etc/vrrpd.conf"].mode, "-rw-------");
    let ddir = s.path("data");
    extract(&top.join("data.tar.gz"), &ddir);
    assert_eq!(
        fs::read(ddir.join("usr/sbin/vrrpd")).ok(),
        fs::read(s.path("stand-in")).ok()
    );
    assert_eq!(
        fs::read(ddir.join("etc/init.d/vrrpd")).ok(),
        fs::read(repo("openwrt/files/vrrpd.init")).ok()
    );
    assert_eq!(
        fs::read(ddir.join("etc/vrrpd.conf")).ok(),
        fs::read(repo("openwrt/files/vrrpd.conf")).ok()
    );
    assert_eq!(
        fs::read(ddir.join("usr/libexec/rpcd/vrrpd")).ok(),
        fs::read(repo("openwrt/files/vrrpd.rpcd")).ok()
    );

    let control = fs::read_to_string(cdir.join("control")).expect("control");
    let f = control_fields(&control);
    assert_eq!(f["Package"], "vrrpd");
    assert_eq!(f["Version"], format!("{VERSION}-1"));
    assert_eq!(f["Architecture"], "mipsel_24kc");
    assert_eq!(f["Section"], "net");
    let total: u64 = files.values().map(|e| e.size).sum();
    assert_eq!(f["Installed-Size"], total.to_string());
    assert!(
        f["Description"].lines().count() > 1,
        "summary plus a long description"
    );
    // A static binary needs nothing, not even libc.
    assert!(!f.contains_key("Depends"), "{control}");
}

#[test]
fn ipk_architecture_for_each_target() {
    let s = Scratch::new("arch");
    for (target, arch) in ARCHES {
        let ipk = build_ipk(&s, target, &[]);
        let top = s.path(arch);
        extract(&ipk, &top);
        let cdir = top.join("c");
        extract(&top.join("control.tar.gz"), &cdir);
        let f = control_fields(&fs::read_to_string(cdir.join("control")).expect("control"));
        assert_eq!(f["Architecture"], arch, "{target}");
        assert!(
            ipk.ends_with(format!("vrrpd_{VERSION}-1_{arch}.ipk")),
            "{}",
            ipk.display()
        );
    }
    // Short names, and an explicit architecture and version for another SoC.
    let ipk = build_ipk(
        &s,
        "armv7",
        &["-a", "arm_cortex-a9_vfpv3-d16", "-v", "9.9.9-3"],
    );
    assert!(
        ipk.ends_with("vrrpd_9.9.9-3_arm_cortex-a9_vfpv3-d16.ipk"),
        "{}",
        ipk.display()
    );
}

#[test]
fn ipk_refuses_unknown_target_and_missing_binary() {
    let s = Scratch::new("refuse");
    let bin = s.path("bin");
    fs::write(&bin, b"x").expect("write");
    let bad = Command::new("bash")
        .arg(repo("openwrt/build-ipk.sh"))
        .arg("-b")
        .arg(&bin)
        .arg("-o")
        .arg(s.path("out"))
        .arg("sparc64-unknown-linux-gnu")
        .output()
        .expect("run");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown target"));
    let missing = Command::new("bash")
        .arg(repo("openwrt/build-ipk.sh"))
        .arg("-b")
        .arg(s.path("nope"))
        .arg("-o")
        .arg(s.path("out"))
        .arg("mipsel")
        .output()
        .expect("run");
    assert!(!missing.status.success());
    assert!(!s.path("out").exists(), "nothing written on failure");
}

#[test]
fn init_script_parses_and_declares_procd() {
    let init = repo("openwrt/files/vrrpd.init");
    run(Command::new("sh").arg("-n").arg(&init));
    let text = fs::read_to_string(&init).expect("init script");
    assert!(text.starts_with("#!/bin/sh /etc/rc.common\n"));
    let var = |name: &str| -> String {
        let prefix = format!("{name}=");
        let line = text
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no {name}="));
        line[prefix.len()..].to_string()
    };
    assert_eq!(var("USE_PROCD"), "1");
    assert_eq!(var("PROG"), "/usr/sbin/vrrpd");
    assert_eq!(var("CONF"), "/etc/vrrpd.conf");
    let start: u32 = var("START").parse().expect("START number");
    assert!(start > 20, "START={start} must come after network (20)");
    let stop: u32 = var("STOP").parse().expect("STOP number");
    assert!(
        stop < 90,
        "STOP={stop} must come before network goes down (90)"
    );
}

/// Sources the init script in sh with stand-in procd functions and a stand-in vrrpd, runs
/// `calls` (shell code), and returns what was recorded, one call per line, fields split by '|'.
fn under_procd(calls: &str, config_ok: bool) -> Vec<String> {
    let s = Scratch::new("procd");
    let log = s.path("log");
    let fake = s.path("vrrpd");
    fs::write(
        &fake,
        "#!/bin/sh\n(IFS='|'; echo \"vrrpd|$*\") >>\"$LOG\"\nexit \"$FAKE_RC\"\n",
    )
    .expect("write fake");
    run(Command::new("chmod").arg("755").arg(&fake));
    let harness = format!(
        r#"
record() {{ (IFS='|'; echo "$*") >>"$LOG"; }}
procd_open_instance() {{ record procd_open_instance "$@"; }}
procd_set_param() {{ record procd_set_param "$@"; }}
procd_append_param() {{ record procd_append_param "$@"; }}
procd_close_instance() {{ record procd_close_instance "$@"; }}
procd_send_signal() {{ record procd_send_signal "$@"; }}
procd_kill() {{ record procd_kill "$@"; }}
. "{init}"
PROG="{fake}"
start() {{ record start "$@"; }}
stop() {{ record stop "$@"; }}
{calls}
"#,
        init = repo("openwrt/files/vrrpd.init").display(),
        fake = fake.display(),
    );
    // OpenWrt runs init scripts with busybox ash: use it too when this machine has it.
    let mut shells = vec![vec!["sh"]];
    if Command::new("busybox")
        .arg("true")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        shells.push(vec!["busybox", "sh"]);
    }
    let mut results = Vec::new();
    for shell in &shells {
        let _ = fs::remove_file(&log);
        let out = Command::new(shell[0])
            .args(&shell[1..])
            .arg("-c")
            .arg(&harness)
            .env("LOG", &log)
            .env("FAKE_RC", if config_ok { "0" } else { "1" })
            .output()
            .expect("run sh");
        let mut lines: Vec<String> = fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            // The stand-in's path varies; the init script's own PROG is checked separately.
            .map(|l| l.replace(&fake.display().to_string(), "PROG"))
            .collect();
        lines.push(format!("exit|{}", out.status.code().unwrap_or(-1)));
        results.push(lines);
    }
    if let [first, rest @ ..] = results.as_slice() {
        for (other, shell) in rest.iter().zip(&shells[1..]) {
            assert_eq!(other, first, "{shell:?} and sh disagree");
        }
    }
    results.swap_remove(0)
}

#[test]
fn init_start_runs_checked_daemon_with_respawn_and_logd() {
    let got = under_procd("(start_service); echo \"rc|$?\" >>\"$LOG\"", true);
    assert_eq!(
        got,
        [
            "vrrpd|-t|-f|/etc/vrrpd.conf",
            "procd_open_instance",
            "procd_set_param|command|PROG|-n|-f|/etc/vrrpd.conf",
            "procd_set_param|respawn|3600|5|5",
            "procd_set_param|stdout|1",
            "procd_set_param|stderr|1",
            "procd_close_instance",
            "rc|0",
            "exit|0",
        ]
    );
}

#[test]
fn init_start_with_bad_config_opens_no_instance() {
    let got = under_procd("(start_service); echo \"rc|$?\" >>\"$LOG\"", false);
    assert_eq!(got, ["vrrpd|-t|-f|/etc/vrrpd.conf", "rc|1", "exit|0"]);
}

#[test]
fn init_reload_checks_then_sends_sighup() {
    let good = under_procd("reload_service; echo \"rc|$?\" >>\"$LOG\"", true);
    assert_eq!(
        good,
        [
            "vrrpd|-t|-f|/etc/vrrpd.conf",
            "procd_send_signal|vrrpd|*|HUP",
            "rc|0",
            "exit|0"
        ]
    );
    let bad = under_procd("reload_service; echo \"rc|$?\" >>\"$LOG\"", false);
    assert_eq!(bad, ["vrrpd|-t|-f|/etc/vrrpd.conf", "rc|1", "exit|0"]);
}

#[test]
fn init_restart_keeps_running_daemon_when_config_is_bad() {
    let good = under_procd("(restart); echo \"rc|$?\" >>\"$LOG\"", true);
    assert_eq!(
        good,
        [
            "vrrpd|-t|-f|/etc/vrrpd.conf",
            "stop",
            "start",
            "rc|0",
            "exit|0"
        ]
    );
    let bad = under_procd("(restart); echo \"rc|$?\" >>\"$LOG\"", false);
    assert_eq!(bad, ["vrrpd|-t|-f|/etc/vrrpd.conf", "rc|1", "exit|0"]);
}

#[test]
fn feed_makefile_matches_crate_and_layout() {
    let mk = fs::read_to_string(repo("openwrt/Makefile")).expect("openwrt/Makefile");
    let assigned = |name: &str| -> Option<String> {
        let prefix = format!("{name}:=");
        mk.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .map(str::to_string)
    };
    assert_eq!(assigned("PKG_NAME").as_deref(), Some("vrrpd"));
    assert_eq!(
        assigned("PKG_VERSION").as_deref(),
        Some(VERSION),
        "openwrt/Makefile PKG_VERSION vs Cargo.toml"
    );
    assert!(
        mk.contains("rust-package.mk"),
        "uses lang/rust's rust-package.mk"
    );
    assert!(mk.contains("$(eval $(call RustBinPackage,vrrpd))"));
    assert!(mk.contains("$(eval $(call BuildPackage,vrrpd))"));
    // Our install rule must come first: RustBinPackage only defines one (into /usr/bin) if none exists.
    let install = mk
        .find("define Package/vrrpd/install")
        .expect("install rule");
    assert!(install < mk.find("call RustBinPackage").expect("RustBinPackage"));
    for needle in [
        "$(1)/usr/sbin/vrrpd",
        "./files/vrrpd.init $(1)/etc/init.d/vrrpd",
        "./files/vrrpd.conf $(1)/etc/vrrpd.conf",
        "./files/vrrpd.rpcd $(1)/usr/libexec/rpcd/vrrpd",
    ] {
        assert!(mk.contains(needle), "Makefile lacks {needle}");
    }
    let conffiles = mk
        .split("define Package/vrrpd/conffiles\n")
        .nth(1)
        .expect("conffiles block");
    assert!(
        conffiles.starts_with("/etc/vrrpd.conf\nendef"),
        "{conffiles}"
    );
}

#[test]
fn shipped_config_is_the_project_example() {
    // The package ships etc/vrrpd.conf as its conffile; keep the two the same.
    let example = repo("etc/vrrpd.conf");
    if example.exists() {
        assert_eq!(
            fs::read(repo("openwrt/files/vrrpd.conf")).ok(),
            fs::read(&example).ok(),
            "openwrt/files/vrrpd.conf differs from etc/vrrpd.conf"
        );
    }
}

/// Runs the rpcd plugin with stand-in jshn functions (recording each call) and a stand-in vrrpd
/// that answers `-s` as `vrrpd_out` and exits `vrrpd_rc`; `args` are rpcd's (`list`, `call
/// status`). Returns the recorded lines, then
/// what the plugin printed itself, then its exit status.
fn under_rpcd(args: &str, vrrpd_out: &str, vrrpd_rc: i32) -> Vec<String> {
    let s = Scratch::new("rpcd");
    let log = s.path("log");
    let fake = s.path("vrrpd");
    fs::write(
        &fake,
        "#!/bin/sh\n(IFS='|'; echo \"vrrpd|$*\") >>\"$LOG\"\nprintf '%s' \"$FAKE_OUT\"\nexit \"$FAKE_RC\"\n",
    )
    .expect("write fake vrrpd");
    run(Command::new("chmod").arg("755").arg(&fake));
    // The plugin sources /usr/share/libubox/jshn.sh; the harness defines the functions first
    // and runs the plugin's body with that line taken out.
    let plugin = fs::read_to_string(repo("openwrt/files/vrrpd.rpcd")).expect("plugin");
    assert!(plugin.contains("\n. /usr/share/libubox/jshn.sh\n"));
    let body = plugin.replace("\n. /usr/share/libubox/jshn.sh\n", "\n");
    let harness = format!(
        r#"
record() {{ (IFS='|'; echo "$*") >>"$LOG"; }}
json_init() {{ record json_init "$@"; }}
json_add_object() {{ record json_add_object "$@"; }}
json_close_object() {{ record json_close_object "$@"; }}
json_add_array() {{ record json_add_array "$@"; }}
json_close_array() {{ record json_close_array "$@"; }}
json_add_string() {{ record json_add_string "$@"; }}
json_add_int() {{ record json_add_int "$@"; }}
json_dump() {{ record json_dump "$@"; }}
date() {{ echo 1000; }}
{body}
"#
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(&harness)
        .arg("vrrpd")
        .args(args.split_whitespace())
        .env("VRRPD", &fake)
        .env("LOG", &log)
        .env("FAKE_OUT", vrrpd_out)
        .env("FAKE_RC", vrrpd_rc.to_string())
        .output()
        .expect("run sh");
    let mut lines: Vec<String> = fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    lines.extend(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| format!("out|{l}")),
    );
    lines.push(format!("exit|{}", out.status.code().unwrap_or(-1)));
    lines
}

#[test]
fn rpcd_plugin_lists_status_and_dump() {
    let got = under_rpcd("list", "", 0);
    assert_eq!(
        got,
        [
            "json_init",
            "json_add_object|status",
            "json_close_object",
            "json_add_object|dump",
            "json_close_object",
            "json_dump",
            "exit|0"
        ]
    );
}

#[test]
fn rpcd_plugin_status_from_the_daemon() {
    let lines = "VI_1 eth0 vrid 51 MASTER prio 150 master 10.99.0.1 for 83s adverts 0/120 drops 0\n\
                 VI_2 eth1 vrid 52 BACKUP prio 100 master 10.99.1.2 for 5s adverts 40/0 drops 3\n";
    let got = under_rpcd("call status", lines, 0);
    assert_eq!(
        got,
        [
            "json_init",
            "vrrpd|-s",
            "json_add_array|instance",
            "json_add_object",
            "json_add_string|name|VI_1",
            "json_add_int|event|917",
            "json_add_string|status|MASTER",
            "json_add_string|interface|eth0",
            "json_add_int|vrid|51",
            "json_add_int|priority|150",
            "json_add_string|master|10.99.0.1",
            "json_close_object",
            "json_add_object",
            "json_add_string|name|VI_2",
            "json_add_int|event|995",
            "json_add_string|status|BACKUP",
            "json_add_string|interface|eth1",
            "json_add_int|vrid|52",
            "json_add_int|priority|100",
            "json_add_string|master|10.99.1.2",
            "json_close_object",
            "json_close_array",
            "json_dump",
            "exit|0"
        ]
    );
}

#[test]
fn rpcd_plugin_dump_passes_the_daemon_json_through() {
    let json = r#"[{"data":{"iname":"VI_1","state":2},"stats":{"advert_sent":3}}]"#;
    let got = under_rpcd("call dump", json, 0);
    assert_eq!(
        got,
        [
            "vrrpd|-s|--json".to_string(),
            format!("out|{{\"status\":{json}}}"),
            "exit|0".to_string()
        ]
    );
}

#[test]
fn rpcd_plugin_without_daemon_answers_an_error() {
    let msg = "vrrpd: no vrrpd is running for /var/run/vrrpd.pid";
    let status = ["json_init", "vrrpd|-s"];
    let dump = ["vrrpd|-s|--json", "json_init"];
    for (call, first) in [("call status", status), ("call dump", dump)] {
        let got = under_rpcd(call, msg, 3);
        assert_eq!(
            got,
            [
                first[0].to_string(),
                first[1].to_string(),
                format!("json_add_string|error|{msg}"),
                "json_dump".to_string(),
                "exit|0".to_string()
            ],
            "{call}"
        );
    }
    let bad = under_rpcd("call nope", "", 0);
    assert_eq!(bad, ["exit|2"]);
}
