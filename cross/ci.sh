#!/usr/bin/env bash
# CI for the router builds: static cross builds with their static/stripped/size checks, an .ipk
# and an .apk for each (the .apk decoded by tests/apk.rs), each binary run under qemu-user (-h, -v, -t on the shipped config), and a two-router
# failover where router A is the first target's binary under qemu-user and router B the native
# build.
#
#   cross/ci.sh [TARGET...]       (default: mipsel armv7)
#
# Needs root (apt-get, network namespaces). Installs qemu-user-static, file and iproute2 when
# missing; cross/build.sh installs the rest. Takes ~4 min from cold caches on 2 cores.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. cross/targets.sh

step() { printf '\n==== ci.sh: %s\n' "$*"; }
fail() { printf 'ci.sh: FAIL: %s\n' "$*" >&2; exit 1; }

names=("$@")
[ ${#names[@]} -gt 0 ] || names=(mipsel armv7)
triples=()
for n in "${names[@]}"; do
	t=$(vrrpd_triple "$n") || fail "unknown target $n"
	triples+=("$t")
done
version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)

step "host packages"
missing=()
command -v file >/dev/null || missing+=(file)
command -v ip >/dev/null || missing+=(iproute2)
for t in "${triples[@]}"; do
	q=$(vrrpd_qemu "$t")
	if [ -n "$q" ] && ! command -v "$q" >/dev/null; then
		missing+=(qemu-user-static)
		break
	fi
done
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

step "static builds: ${triples[*]}"
NICE=${NICE:-15} cross/build.sh "${triples[@]}"

for t in "${triples[@]}"; do
	bin=dist/vrrpd-$version-$t
	q=$(vrrpd_qemu "$t")
	step "$t: package and run under ${q:-the host}"
	openwrt/build-ipk.sh "$t"
	apk=$(openwrt/build-apk.sh "$t")
	# The real package through the test's own ADB reader: fields, modes, hashes, the ELF inside.
	out=$(VRRPD_APK=$apk VRRPD_APK_ARCH=$(vrrpd_opkg_arch "$t") \
		cargo test --release --locked --test apk -- --exact built_apk 2>&1) || {
		printf '%s\n' "$out" >&2
		fail "$apk does not decode (VRRPD_APK=$apk cargo test --test apk built_apk)"
	}
	# $q is empty on x86_64 and then must expand to nothing.
	$q "$bin" -h >/dev/null || fail "$bin -h exited $?"
	got=$($q "$bin" -v) || fail "$bin -v exited $?"
	[ "$got" = "vrrpd $version" ] || fail "$bin -v printed '$got'"
	$q "$bin" -t -f openwrt/files/vrrpd.conf || fail "$bin -t rejects openwrt/files/vrrpd.conf"
done

step "failover: ${triples[0]} under qemu-user and the native build"
nice -n "${NICE:-15}" cargo build --release --locked --bin vrrpd
cross/qemu-failover.sh "${triples[0]}" "dist/vrrpd-$version-${triples[0]}" "${CARGO_TARGET_DIR:-target}/release/vrrpd"

step "ok"
