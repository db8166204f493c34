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
# what openwrt/package.sh stages (the daemon, init script, config, rpcd plugin). All entries are
# owned by root.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

die() { printf 'build-ipk.sh: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,13s/^# \{0,1\}//p' "$0" >&2; exit 2; }

. "$here/package.sh"
vrrpd_args - "$@"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/data" "$work/control"
vrrpd_stage "$work/data"

# Static binary: no Depends (not even libc). Installed-Size is the bytes of the files.
installed_size=$(find "$work/data" -type f -exec cat {} + | wc -c)
cat >"$work/control/control" <<EOF
Package: vrrpd
Version: $version
Source: vrrpd
SourceName: vrrpd
License: $VRRPD_LICENSE
Section: net
Architecture: $arch
Installed-Size: $installed_size
Description: $VRRPD_SUMMARY
$(printf '%s\n' "$VRRPD_DESCRIPTION" | sed 's/^/ /')
EOF

# opkg keeps a changed conffile on upgrade and installs the new one as .opkg next to it.
printf '%s\n' $VRRPD_CONFFILES >"$work/control/conffiles"

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
epoch=$(vrrpd_epoch)
tarx() { tar --owner=0 --group=0 --numeric-owner --sort=name --mtime="@$epoch" --format=gnu "$@"; }
tarx -C "$work/control" -cf - . | gzip -n9 >"$work/control.tar.gz"
tarx -C "$work/data" -cf - . | gzip -n9 >"$work/data.tar.gz"

mkdir -p "$outdir"
ipk=$outdir/vrrpd_${version}_${arch}.ipk
tar --owner=0 --group=0 --numeric-owner --mtime="@$epoch" --format=gnu -C "$work" \
	-cf - ./debian-binary ./data.tar.gz ./control.tar.gz | gzip -n9 >"$ipk"
echo "$ipk"
