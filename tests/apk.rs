//! The OpenWrt 25.12 `.apk` from `openwrt/build-apk.sh`, decoded here by an ADB reader written
//! from apk-tools' doc/apk-v3.5.scd and src/apk_adb.h (not from openwrt/adb.py, so the two
//! check each other): framing, blocks, the package object's fields, paths, modes, sizes, the
//! SHA-256 of every DATA block, the scripts and OpenWrt's /lib/apk/packages files.
//!
//! Inflate is python3's zlib (raw deflate, wbits -15) and hashes are coreutils' sha256sum: the
//! test needs no crate for either. Builds around a stand-in binary, so no cross build is needed.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const VERSION: &str = env!("CARGO_PKG_VERSION");

const ARCHES: [(&str, &str); 5] = [
    ("mipsel", "mipsel_24kc"),
    ("mips", "mips_24kc"),
    ("armv7", "arm_cortex-a7_neon-vfpv4"),
    ("aarch64", "aarch64_cortex-a53"),
    ("x86_64", "x86_64"),
];

// ---- the ADB format -----------------------------------------------------------------------

/// A value tag: type in the high 4 bits, immediate value or offset in the low 28.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Val(u32);

impl Val {
    fn kind(self) -> u32 {
        self.0 >> 28
    }
    fn imm(self) -> usize {
        (self.0 & 0x0fff_ffff) as usize
    }
    fn is_null(self) -> bool {
        self.0 == 0
    }
}

/// The ADB block: offsets in tags count from its first byte.
struct Adb<'a>(&'a [u8]);

fn u32_at(b: &[u8], off: usize) -> u32 {
    let s = b.get(off..off + 4).expect("u32 inside the block");
    u32::from_le_bytes([s[0], s[1], s[2], s[3]])
}

impl Adb<'_> {
    fn root(&self) -> Val {
        // adb_hdr: compat version (must be 0), version, reserved u16, root.
        assert_eq!(self.0[0], 0, "adb_compat_ver");
        Val(u32_at(self.0, 4))
    }

    fn int(&self, v: Val) -> u64 {
        match v.kind() {
            0x0 if v.is_null() => 0,
            0x1 => v.imm() as u64,
            0x2 => u64::from(u32_at(self.0, v.imm())),
            k => panic!("not an int: type {k:#x}"),
        }
    }

    fn blob(&self, v: Val) -> &[u8] {
        let o = v.imm();
        let (len, start) = match v.kind() {
            0x0 if v.is_null() => return &[],
            0x8 => (usize::from(self.0[o]), o + 1),
            0x9 => {
                assert_eq!(o % 2, 0, "blob16 aligned");
                (
                    usize::from(u16::from_le_bytes([self.0[o], self.0[o + 1]])),
                    o + 2,
                )
            }
            0xa => {
                assert_eq!(o % 4, 0, "blob32 aligned");
                (u32_at(self.0, o) as usize, o + 4)
            }
            k => panic!("not a blob: type {k:#x}"),
        };
        self.0
            .get(start..start + len)
            .expect("blob inside the block")
    }

    fn text(&self, v: Val) -> String {
        String::from_utf8(self.blob(v).to_vec()).expect("utf-8 string")
    }

    /// Slots 1.. of an object or array (slot 0 is the count, itself included).
    fn slots(&self, v: Val, kind: u32) -> Vec<Val> {
        if v.is_null() {
            return Vec::new();
        }
        assert_eq!(v.kind(), kind, "value type");
        let o = v.imm();
        assert_eq!(o % 4, 0, "object aligned");
        let n = u32_at(self.0, o) as usize;
        assert!(n >= 1, "slot count includes itself");
        (1..n).map(|i| Val(u32_at(self.0, o + 4 * i))).collect()
    }

    /// Field `i` (1-based) of an object; NULL when the object is shorter.
    fn field(&self, obj: Val, i: usize) -> Val {
        self.slots(obj, 0xe).get(i - 1).copied().unwrap_or(Val(0))
    }

    fn array(&self, v: Val) -> Vec<Val> {
        self.slots(v, 0xd)
    }
}

/// Blocks after the 8-byte file header: (type, payload).
fn blocks(body: &[u8]) -> Vec<(u32, &[u8])> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < body.len() {
        let tag = u32_at(body, pos);
        let (kind, raw) = (tag >> 30, (tag & 0x3fff_ffff) as usize);
        assert_ne!(kind, 3, "no extended blocks expected");
        assert!(raw >= 4 && pos + raw <= body.len(), "block length");
        out.push((kind, &body[pos + 4..pos + raw]));
        let padded = raw.div_ceil(8) * 8;
        assert!(
            body[pos + raw..(pos + padded).min(body.len())]
                .iter()
                .all(|&b| b == 0),
            "zero padding"
        );
        pos += padded;
    }
    assert_eq!(pos, body.len(), "the last block is padded to 8 too");
    out
}

fn inflate_raw(data: &[u8]) -> Vec<u8> {
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import sys,zlib; sys.stdout.buffer.write(zlib.decompress(sys.stdin.buffer.read(), -15))",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 (the test inflates with its zlib)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(data)
        .expect("feed python3");
    let out = child.wait_with_output().expect("python3");
    assert!(out.status.success(), "raw inflate failed");
    out.stdout
}

fn sha256(data: &[u8]) -> String {
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha256sum");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(data)
        .expect("feed sha256sum");
    let out = child.wait_with_output().expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("a digest")
        .to_string()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

// ---- a decoded package ---------------------------------------------------------------------

#[derive(Debug)]
struct File {
    mode: u64,
    user: String,
    group: String,
    size: u64,
    hash: Vec<u8>,
    data: Vec<u8>,
}

struct Package {
    info: BTreeMap<&'static str, String>,
    dirs: BTreeMap<String, u64>,
    files: BTreeMap<String, File>,
    scripts: BTreeMap<&'static str, String>,
}

const INFO_FIELDS: [(usize, &str); 9] = [
    (1, "name"),
    (2, "version"),
    (4, "description"),
    (5, "arch"),
    (6, "license"),
    (7, "origin"),
    (8, "maintainer"),
    (9, "url"),
    (10, "repo-commit"),
];
const SCRIPT_FIELDS: [(usize, &str); 7] = [
    (1, "trigger"),
    (2, "pre-install"),
    (3, "post-install"),
    (4, "pre-deinstall"),
    (5, "post-deinstall"),
    (6, "pre-upgrade"),
    (7, "post-upgrade"),
];

fn decode(apk: &[u8]) -> Package {
    let z = apk
        .strip_prefix(b"ADBd")
        .expect("ADBd: deflate-compressed ADB");
    let raw = inflate_raw(z);
    let body = raw.strip_prefix(b"ADB.").expect("ADB. magic");
    let body = body.strip_prefix(b"pckg").expect("schema pckg");
    let blks = blocks(body);
    let (kind, adb) = blks.first().expect("an ADB block");
    assert_eq!(*kind, 0, "the first block is ADB");
    assert!(
        blks[1..].iter().all(|(k, _)| *k == 2),
        "then only DATA blocks (no SIG: unsigned)"
    );
    let db = Adb(adb);
    let root = db.root();
    let info_v = db.field(root, 1);
    let mut info = BTreeMap::new();
    for (i, name) in INFO_FIELDS {
        let v = db.field(info_v, i);
        if !v.is_null() {
            info.insert(name, db.text(v));
        }
    }
    info.insert("installed-size", db.int(db.field(info_v, 12)).to_string());
    info.insert("build-time", db.int(db.field(info_v, 11)).to_string());
    let uid = db.blob(db.field(info_v, 3));
    assert_eq!(uid.len(), 20, "unique id (hashes) is 20 bytes");

    let mut scripts = BTreeMap::new();
    let sv = db.field(root, 3);
    for (i, name) in SCRIPT_FIELDS {
        let v = db.field(sv, i);
        if !v.is_null() {
            scripts.insert(name, db.text(v));
        }
    }

    // DATA blocks, in path/file order: u32 path index, u32 file index, then the bytes.
    let mut data: Vec<(u32, u32, &[u8])> = blks[1..]
        .iter()
        .map(|(_, p)| (u32_at(p, 0), u32_at(p, 4), &p[8..]))
        .collect();
    let sorted = {
        let mut s = data.clone();
        s.sort_by_key(|d| (d.0, d.1));
        s
    };
    assert_eq!(data, sorted, "DATA blocks in path/file order");

    let mut dirs = BTreeMap::new();
    let mut files = BTreeMap::new();
    let mut last_dir: Option<Vec<u8>> = None;
    for (pi, d) in db.array(db.field(root, 2)).into_iter().enumerate() {
        let name = db.text(db.field(d, 1));
        if let Some(prev) = &last_dir {
            assert!(prev.as_slice() < name.as_bytes(), "paths sorted: {name}");
        }
        last_dir = Some(name.as_bytes().to_vec());
        let acl = db.field(d, 2);
        dirs.insert(name.clone(), db.int(db.field(acl, 1)));
        let mut last_file: Option<String> = None;
        for (fi, f) in db.array(db.field(d, 3)).into_iter().enumerate() {
            let fname = db.text(db.field(f, 1));
            if let Some(prev) = &last_file {
                assert!(prev < &fname, "files sorted in {name}: {fname}");
            }
            last_file = Some(fname.clone());
            let acl = db.field(f, 2);
            let size = db.int(db.field(f, 3));
            assert!(
                db.field(f, 6).is_null(),
                "{fname}: a regular file has no target"
            );
            let body = if size > 0 {
                let (p, i, b) = data.remove(0);
                assert_eq!(
                    (p as usize, i as usize),
                    (pi + 1, fi + 1),
                    "DATA block for {name}/{fname}"
                );
                b.to_vec()
            } else {
                Vec::new()
            };
            let path = if name.is_empty() {
                format!("/{fname}")
            } else {
                format!("/{name}/{fname}")
            };
            files.insert(
                path,
                File {
                    mode: db.int(db.field(acl, 1)),
                    user: db.text(db.field(acl, 2)),
                    group: db.text(db.field(acl, 3)),
                    size,
                    hash: db.blob(db.field(f, 5)).to_vec(),
                    data: body,
                },
            );
        }
    }
    assert!(
        data.is_empty(),
        "a DATA block for every non-empty file, no more"
    );
    Package {
        info,
        dirs,
        files,
        scripts,
    }
}

// ---- building ------------------------------------------------------------------------------

struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("vrrpd-apk-{}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn build(s: &Scratch, target: &str, extra: &[&str]) -> (PathBuf, Vec<u8>) {
    let bin = s.0.join("stand-in");
    // 70 KB, part of it incompressible: several deflate blocks.
    let mut stand_in = b"\x7fELF stand-in for the vrrpd binary\n".to_vec();
    stand_in.extend((0..70_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    fs::write(&bin, &stand_in).expect("stand-in");
    let out = Command::new("bash")
        .arg(Path::new(ROOT).join("openwrt/build-apk.sh"))
        .arg("-b")
        .arg(&bin)
        .arg("-o")
        .arg(s.0.join("out"))
        .args(extra)
        .arg(target)
        .output()
        .expect("run build-apk.sh");
    assert!(
        out.status.success(),
        "build-apk.sh failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(path.is_file(), "{}", path.display());
    (path, stand_in)
}

fn repo(rel: &str) -> Vec<u8> {
    fs::read(Path::new(ROOT).join(rel)).expect(rel)
}

/// apk-tools' version grammar: digits{.digits}[letter]{_suffix[digits]}[-rN].
fn apk_version_valid(v: &str) -> bool {
    let (main, rel) = match v.rsplit_once("-r") {
        Some((m, r)) if !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()) => (m, Some(r)),
        _ => (v, None),
    };
    let _ = rel;
    let (main, suffixes) = main.split_once('_').map_or((main, ""), |(a, b)| (a, b));
    let mut parts = main.split('.');
    let ok_num = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let Some(first) = parts.next() else {
        return false;
    };
    if !ok_num(first) {
        return false;
    }
    let rest: Vec<&str> = parts.collect();
    for (i, p) in rest.iter().enumerate() {
        let digits = if i + 1 == rest.len() {
            p.strip_suffix(|c: char| c.is_ascii_lowercase())
                .unwrap_or(p)
        } else {
            p
        };
        if !ok_num(digits) {
            return false;
        }
    }
    suffixes.split('_').filter(|s| !s.is_empty()).all(|s| {
        let word = s.trim_end_matches(|c: char| c.is_ascii_digit());
        ["alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"].contains(&word)
    })
}

// ---- tests ---------------------------------------------------------------------------------

#[test]
fn apk_fields_paths_modes_and_hashes() {
    let s = Scratch::new("fields");
    let (apk, stand_in) = build(&s, "mipsel", &[]);
    assert_eq!(
        apk.file_name().and_then(|n| n.to_str()),
        Some(&*format!("vrrpd-{VERSION}-r1_mipsel_24kc.apk"))
    );
    let p = decode(&fs::read(&apk).expect("read apk"));

    assert_eq!(p.info["name"], "vrrpd");
    assert_eq!(p.info["version"], format!("{VERSION}-r1"));
    assert!(
        apk_version_valid(&p.info["version"]),
        "{}",
        p.info["version"]
    );
    assert_eq!(p.info["arch"], "mipsel_24kc");
    assert_eq!(p.info["license"], "MIT OR Apache-2.0");
    assert_eq!(p.info["origin"], "vrrpd");
    assert!(p.info["description"].contains("VRRP"), "{:?}", p.info);

    let names: Vec<&str> = p.files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "/etc/init.d/vrrpd",
            "/etc/vrrpd.conf",
            "/lib/apk/packages/vrrpd.conffiles",
            "/lib/apk/packages/vrrpd.conffiles_static",
            "/lib/apk/packages/vrrpd.list",
            "/usr/libexec/rpcd/vrrpd",
            "/usr/sbin/vrrpd",
        ]
    );
    for (path, f) in &p.files {
        assert_eq!(
            (f.user.as_str(), f.group.as_str()),
            ("root", "root"),
            "{path}"
        );
        assert_eq!(f.size, f.data.len() as u64, "{path} size");
        assert_eq!(
            hex(&f.hash),
            sha256(&f.data),
            "{path}: SHA-256 of its DATA block"
        );
        let want = match path.as_str() {
            "/usr/sbin/vrrpd" | "/etc/init.d/vrrpd" | "/usr/libexec/rpcd/vrrpd" => 0o755,
            "/etc/vrrpd.conf" => 0o600,
            _ => 0o644,
        };
        assert_eq!(f.mode, want, "{path} mode {:o}", f.mode);
    }
    for (d, mode) in &p.dirs {
        assert_eq!(*mode, 0o755, "dir '{d}'");
    }
    assert!(p.dirs.contains_key("usr/libexec/rpcd"), "{:?}", p.dirs);
    let total: u64 = p.files.values().map(|f| f.size).sum();
    assert_eq!(p.info["installed-size"], total.to_string());

    assert_eq!(p.files["/usr/sbin/vrrpd"].data, stand_in);
    assert_eq!(
        p.files["/etc/init.d/vrrpd"].data,
        repo("openwrt/files/vrrpd.init")
    );
    assert_eq!(
        p.files["/etc/vrrpd.conf"].data,
        repo("openwrt/files/vrrpd.conf")
    );
    assert_eq!(
        p.files["/usr/libexec/rpcd/vrrpd"].data,
        repo("openwrt/files/vrrpd.rpcd")
    );

    // OpenWrt's own package files, as package-pack.mk writes them.
    let text = |p: &Package, f: &str| String::from_utf8(p.files[f].data.clone()).expect("utf-8");
    assert_eq!(
        text(&p, "/lib/apk/packages/vrrpd.conffiles"),
        "/etc/vrrpd.conf\n"
    );
    assert_eq!(
        text(&p, "/lib/apk/packages/vrrpd.conffiles_static"),
        format!(
            "/etc/vrrpd.conf {}\n",
            sha256(&repo("openwrt/files/vrrpd.conf"))
        )
    );
    let list = text(&p, "/lib/apk/packages/vrrpd.list");
    let listed: Vec<&str> = list.lines().collect();
    for f in [
        "/etc/init.d/vrrpd",
        "/etc/vrrpd.conf",
        "/usr/sbin/vrrpd",
        "/usr/libexec/rpcd/vrrpd",
        "/lib/apk/packages/vrrpd.list",
    ] {
        assert!(listed.contains(&f), "{f} not in vrrpd.list:\n{list}");
    }

    // Scripts stored whole; post-install enables and starts the init script the OpenWrt way.
    let post = &p.scripts["post-install"];
    assert!(post.starts_with("#!/bin/sh\n"), "{post}");
    assert!(
        post.contains(". ${IPKG_INSTROOT}/lib/functions.sh\n"),
        "{post}"
    );
    assert!(post.contains("export pkgname=\"vrrpd\"\n"), "{post}");
    assert!(post.trim_end().ends_with("default_postinst"), "{post}");
    assert!(
        p.scripts["pre-deinstall"]
            .trim_end()
            .ends_with("default_prerm")
    );
    assert!(p.scripts["post-upgrade"].contains("export PKG_UPGRADE=1\n"));
    for (name, body) in &p.scripts {
        let f = s.0.join(name);
        fs::write(&f, body).expect("script");
        let ok = Command::new("sh")
            .arg("-n")
            .arg(&f)
            .status()
            .expect("sh -n");
        assert!(ok.success(), "{name} does not parse");
    }
}

#[test]
fn apk_for_each_openwrt_arch() {
    let s = Scratch::new("arches");
    for (target, arch) in ARCHES {
        let (apk, _) = build(&s, target, &[]);
        assert!(
            apk.ends_with(format!("vrrpd-{VERSION}-r1_{arch}.apk")),
            "{}",
            apk.display()
        );
        let p = decode(&fs::read(&apk).expect("read"));
        assert_eq!(p.info["arch"], arch, "{target}");
    }
    let (apk, _) = build(
        &s,
        "armv7",
        &["-a", "arm_cortex-a9_vfpv3-d16", "-v", "9.9.9-r3"],
    );
    let p = decode(&fs::read(&apk).expect("read"));
    assert_eq!(p.info["version"], "9.9.9-r3");
    assert_eq!(p.info["arch"], "arm_cortex-a9_vfpv3-d16");
}

#[test]
fn apk_is_reproducible() {
    let s = Scratch::new("repro");
    let (a, _) = build(&s, "x86_64", &[]);
    let first = fs::read(&a).expect("read");
    let (b, _) = build(&s, "x86_64", &[]);
    assert_eq!(first, fs::read(&b).expect("read"), "same input, same bytes");
}

#[test]
fn version_grammar() {
    for ok in ["0.1.0-r1", "1.2.3", "2.0_rc1-r0", "1.0a-r2", VERSION] {
        assert!(apk_version_valid(ok), "{ok}");
    }
    for bad in ["0.1.0-1", "v1.0", "1..2", "1.0_foo"] {
        assert!(!apk_version_valid(bad), "{bad}");
    }
}

#[test]
fn feed_makefile_version_is_apk_valid_and_printed_by_vrrpd() {
    let mk = String::from_utf8(repo("openwrt/Makefile")).expect("utf-8");
    let var = |name: &str| -> String {
        mk.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:=")))
            .unwrap_or_else(|| panic!("no {name}"))
            .to_string()
    };
    let (v, r) = (var("PKG_VERSION"), var("PKG_RELEASE"));
    assert!(apk_version_valid(&format!("{v}-r{r}")), "{v}-r{r}");
    // The packages feed's CI runs the program and looks for PKG_VERSION in what it prints.
    let out = Command::new(env!("CARGO_BIN_EXE_vrrpd"))
        .arg("-v")
        .output()
        .expect("vrrpd -v");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("vrrpd {v}")
    );
}

/// The package cross/ci.sh built around a real cross-compiled binary (VRRPD_APK, and
/// VRRPD_APK_ARCH for its architecture). Without VRRPD_APK there is nothing to check here: the
/// tests above cover the same script around a stand-in.
#[test]
fn built_apk() {
    let Some(path) = std::env::var_os("VRRPD_APK") else {
        eprintln!("VRRPD_APK not set: no built package to check (cross/ci.sh sets it)");
        return;
    };
    let p = decode(&fs::read(&path).expect("read VRRPD_APK"));
    if let Some(arch) = std::env::var_os("VRRPD_APK_ARCH") {
        assert_eq!(p.info["arch"], arch.to_string_lossy());
    }
    let bin = &p.files["/usr/sbin/vrrpd"];
    assert!(bin.data.starts_with(b"\x7fELF"), "not an ELF binary");
    assert_eq!(bin.mode, 0o755);
    for (name, f) in &p.files {
        assert_eq!(hex(&f.hash), sha256(&f.data), "{name}");
    }
}
