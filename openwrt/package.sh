# shellcheck shell=bash
# What the vrrpd package holds, shared by build-ipk.sh and build-apk.sh (sourced, not run), so
# the .ipk and the .apk install the same files with the same modes and scripts.
#
# Before sourcing, the caller sets $here (this directory) and $root (the crate) and defines die().

VRRPD_LICENSE="MIT OR Apache-2.0"
VRRPD_SUMMARY="VRRP daemon (RFC 3768 / RFC 5798) configured like keepalived"
VRRPD_DESCRIPTION="One small static binary: virtual router redundancy for IPv4 with VRRPv2
and VRRPv3, multicast or unicast adverts, gratuitous ARP on takeover.
Configured with /etc/vrrpd.conf (keepalived.conf dialect), run by procd."
# Kept on upgrade when edited (opkg writes the new one as .opkg, apk as .apk-new).
VRRPD_CONFFILES="/etc/vrrpd.conf"

# vrrpd_args VERSION_SEP "$@": the options both scripts take. Sets bin, arch, version, outdir,
# triple and crate_version; VERSION_SEP joins the crate version and the release 1 ("-" for opkg,
# "-r" for apk).
vrrpd_args() {
	local sep=$1 opt
	shift
	bin='' arch='' version='' outdir=$root/dist
	OPTIND=1
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

	. "$root/cross/targets.sh"
	triple=$(vrrpd_triple "$1") || die "unknown target '$1' (mipsel mips armv7 aarch64 x86_64, or their triples)"
	arch=${arch:-$(vrrpd_opkg_arch "$triple")}
	crate_version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$root/Cargo.toml" | head -n 1)
	[ -n "$crate_version" ] || die "no version in $root/Cargo.toml"
	version=${version:-$crate_version${sep}1}
	bin=${bin:-$root/dist/vrrpd-$crate_version-$triple}
	[ -f "$bin" ] || die "no binary at $bin (run cross/build.sh $triple, or pass -b)"
	return 0
}

# vrrpd_stage DIR: the installed files under DIR, with their modes. Ownership is left to the
# archive writers, which make every entry root's.
vrrpd_stage() {
	local dir=$1 files=$here/files f
	for f in vrrpd.init vrrpd.conf vrrpd.rpcd; do
		[ -f "$files/$f" ] || die "missing $files/$f"
	done
	mkdir -p "$dir/usr/sbin" "$dir/etc/init.d" "$dir/usr/libexec/rpcd"
	install -m 0755 "$bin" "$dir/usr/sbin/vrrpd"
	install -m 0755 "$files/vrrpd.init" "$dir/etc/init.d/vrrpd"
	install -m 0600 "$files/vrrpd.conf" "$dir/etc/vrrpd.conf"
	# ubus call vrrpd status|dump (rpcd runs every executable in this directory).
	install -m 0755 "$files/vrrpd.rpcd" "$dir/usr/libexec/rpcd/vrrpd"
}

# Reproducible: the last commit's time (or SOURCE_DATE_EPOCH) for every timestamp.
vrrpd_epoch() {
	echo "${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)}"
}
