#!/usr/bin/env bash
# Wrap a static vrrpd binary into an OpenWrt .ipk, without the OpenWrt SDK.
#
#   openwrt/build-ipk.sh [-b BINARY] [-a OPKG_ARCH] [-v VERSION] [-o OUTDIR] TARGET
#
# TARGET is the Rust triple (or short name) the binary was built for; it picks the opkg
# architecture and, without -b, the binary dist/vrrpd-VERSION-TARGET made by cross/build.sh.
#   mipsel  -> mipsel_24kc            mips    -> mips_24kc
#   armv7   -> arm_cortex-a7_neon-vfpv4
#   aarch64 -> aarch64_cortex-a53     x86_64  -> x86_64
# -a overrides the architecture (e.g. arm_cortex-a9_vfpv3-d16 for another armv7 hard-float SoC).
# -v is the package version (default: Cargo.toml's version and release 1, e.g. 0.1.0-1).
# Output: OUTDIR/vrrpd_VERSION_ARCH.ipk (default OUTDIR: dist), path printed on stdout.
#
# Layout, as OpenWrt's ipkg-build makes it: a gzip'd tar of ./debian-binary, ./data.tar.gz and
# ./control.tar.gz. control.tar.gz holds control, conffiles, postinst and prerm; data.tar.gz holds
# /usr/sbin/vrrpd, /etc/init.d/vrrpd and /etc/vrrpd.conf. All entries are owned by root.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

die() { printf 'build-ipk.sh: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,13s/^# \{0,1\}//p' "$0" >&2; exit 2; }

bin='' arch='' version='' outdir=$root/dist
while getopts b:a:v:o:h opt; do
	case "$opt" in
		b) bin=$OPTARG ;;
		a) arch=$OPTARG ;;
		v) version=$OPTARG ;;
		o) outdir=$OPTARG ;;
		*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
target=$1

. "$root/cross/targets.sh"
triple=$(vrrpd_triple "$target") || die "unknown target '$target' (mipsel mips armv7 aarch64 x86_64, or their triples)"
def_arch=$(vrrpd_opkg_arch "$triple")
arch=${arch:-$def_arch}

crate_version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$root/Cargo.toml" | head -n 1)
[ -n "$crate_version" ] || die "no version in $root/Cargo.toml"
version=${version:-$crate_version-1}
bin=${bin:-$root/dist/vrrpd-$crate_version-$triple}
[ -f "$bin" ] || die "no binary at $bin (run cross/build.sh $triple, or pass -b)"

files=$here/files
for f in vrrpd.init vrrpd.conf; do
	[ -f "$files/$f" ] || die "missing $files/$f"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/data/usr/sbin" "$work/data/etc/init.d" "$work/control"

install -m 0755 "$bin" "$work/data/usr/sbin/vrrpd"
install -m 0755 "$files/vrrpd.init" "$work/data/etc/init.d/vrrpd"
install -m 0600 "$files/vrrpd.conf" "$work/data/etc/vrrpd.conf"

# Static binary: no Depends (not even libc). Installed-Size is the bytes of the files.
installed_size=$(find "$work/data" -type f -exec cat {} + | wc -c)
cat >"$work/control/control" <<EOF
Package: vrrpd
Version: $version
Source: vrrpd
SourceName: vrrpd
License: MIT OR Apache-2.0
Section: net
Architecture: $arch
Installed-Size: $installed_size
Description: VRRP daemon (RFC 3768 / RFC 5798) configured like keepalived
 One small static binary: virtual router redundancy for IPv4 with VRRPv2
 and VRRPv3, multicast or unicast adverts, gratuitous ARP on takeover.
 Configured with /etc/vrrpd.conf (keepalived.conf dialect), run by procd.
EOF

# opkg keeps a changed conffile on upgrade and installs the new one as .opkg next to it.
echo /etc/vrrpd.conf >"$work/control/conffiles"

# The same scripts the OpenWrt SDK generates for a package with an init script: enable and start
# on install, stop (and on removal, disable) before the files go, and only enable links when
# building a firmware image (IPKG_INSTROOT set).
cat >"$work/control/postinst" <<'EOF'
#!/bin/sh
[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0
[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0
. ${IPKG_INSTROOT}/lib/functions.sh
default_postinst $0 $@
EOF
cat >"$work/control/prerm" <<'EOF'
#!/bin/sh
[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0
. ${IPKG_INSTROOT}/lib/functions.sh
default_prerm $0 $@
EOF
chmod 0755 "$work/control/postinst" "$work/control/prerm"
printf '2.0\n' >"$work/debian-binary"

# Reproducible: fixed owner, order and time, no gzip timestamp.
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)}
tarx() { tar --owner=0 --group=0 --numeric-owner --sort=name --mtime="@$epoch" --format=gnu "$@"; }
tarx -C "$work/control" -cf - . | gzip -n9 >"$work/control.tar.gz"
tarx -C "$work/data" -cf - . | gzip -n9 >"$work/data.tar.gz"

mkdir -p "$outdir"
ipk=$outdir/vrrpd_${version}_${arch}.ipk
tar --owner=0 --group=0 --numeric-owner --mtime="@$epoch" --format=gnu -C "$work" \
	-cf - ./debian-binary ./data.tar.gz ./control.tar.gz | gzip -n9 >"$ipk"
echo "$ipk"
