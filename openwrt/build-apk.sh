#!/usr/bin/env bash
# Wrap a static vrrpd binary into an OpenWrt 25.12 .apk (apk-tools v3), without the OpenWrt SDK.
#
#   openwrt/build-apk.sh [-b BINARY] [-a ARCH] [-v VERSION] [-o OUTDIR] TARGET
#
# TARGET, -b and -a as for build-ipk.sh (the architectures are the same names: mipsel_24kc,
# mips_24kc, arm_cortex-a7_neon-vfpv4, aarch64_cortex-a53, x86_64).
# -v is the package version, apk-style (default: Cargo.toml's version and release 1, 0.1.0-r1).
# Output: OUTDIR/vrrpd-VERSION_ARCH.apk (default OUTDIR: dist), path printed on stdout.
# Install on the router with `apk add --allow-untrusted ./vrrpd-….apk` (the package is unsigned).
#
# The layout is the one OpenWrt's package-pack.mk gives `apk mkpkg`: the files of package.sh,
# plus /lib/apk/packages/vrrpd.list (every file, for default_postinst and default_prerm),
# vrrpd.conffiles and vrrpd.conffiles_static (path and SHA-256, so an edited /etc/vrrpd.conf is
# kept on upgrade and the new one lands as .apk-new), and the post-install, pre-deinstall and
# post-upgrade scripts that source /lib/functions.sh. openwrt/adb.py writes the ADB file.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

die() { printf 'build-apk.sh: error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,10s/^# \{0,1\}//p' "$0" >&2; exit 2; }

. "$here/package.sh"
vrrpd_args -r "$@"
command -v python3 >/dev/null || die "python3 is needed (openwrt/adb.py writes the package)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data=$work/data
mkdir -p "$data" "$work/scripts"
vrrpd_stage "$data"

# In package-pack.mk's order: the list (which names itself) before the conffiles.
pk=$data/lib/apk/packages
mkdir -p "$pk"
: >"$pk/vrrpd.list"
(cd "$data" && find . -type f -printf '/%P\n' | LC_ALL=C sort) >"$work/list"
mv "$work/list" "$pk/vrrpd.list"
printf '%s\n' $VRRPD_CONFFILES >"$pk/vrrpd.conffiles"
for f in $VRRPD_CONFFILES; do
	printf '%s %s\n' "$f" "$(sha256sum <"$data$f" | cut -d' ' -f1)"
done >"$pk/vrrpd.conffiles_static"
chmod 0644 "$pk"/vrrpd.*

# The scripts package-pack.mk generates: enable and start the init script on install, stop and
# disable it before removal; PKG_UPGRADE=1 keeps an upgraded service enabled as it was.
cat >"$work/scripts/post-install" <<'EOS'
#!/bin/sh
[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0
[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0
. ${IPKG_INSTROOT}/lib/functions.sh
export root="${IPKG_INSTROOT}"
export pkgname="vrrpd"
add_group_and_user
default_postinst
EOS
{ printf '#!/bin/sh\nexport PKG_UPGRADE=1\n'; cat "$work/scripts/post-install"; } >"$work/scripts/post-upgrade"
cat >"$work/scripts/pre-deinstall" <<'EOS'
#!/bin/sh
[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0
. ${IPKG_INSTROOT}/lib/functions.sh
export root="${IPKG_INSTROOT}"
export pkgname="vrrpd"
default_prerm
EOS

epoch=$(vrrpd_epoch)
mkdir -p "$outdir"
apk=$outdir/vrrpd-${version}_${arch}.apk
python3 "$here/adb.py" -o "$apk" -F "$data" --mtime "$epoch" \
	-I name:vrrpd -I "version:$version" -I "arch:$arch" \
	-I "description:$VRRPD_SUMMARY" -I "license:$VRRPD_LICENSE" -I origin:vrrpd \
	-I "build-time:$epoch" \
	-s "post-install:$work/scripts/post-install" \
	-s "post-upgrade:$work/scripts/post-upgrade" \
	-s "pre-deinstall:$work/scripts/pre-deinstall"
echo "$apk"
