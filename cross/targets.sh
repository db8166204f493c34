# shellcheck shell=bash disable=SC2034
# The router targets vrrpd ships for, shared by cross/build.sh, cross/ci.sh and
# openwrt/build-ipk.sh (sourced, not run).

# All targets, in the order builds and reports list them.
VRRPD_TARGETS="mipsel-unknown-linux-musl mips-unknown-linux-musl armv7-unknown-linux-musleabihf aarch64-unknown-linux-musl x86_64-unknown-linux-musl"

# vrrpd_triple NAME: the Rust triple for a short name (mipsel mips armv7 aarch64 x86_64) or a
# triple from the list; fails on anything else.
vrrpd_triple() {
	case "$1" in
		mipsel | mipsel-unknown-linux-musl) echo mipsel-unknown-linux-musl ;;
		mips | mips-unknown-linux-musl) echo mips-unknown-linux-musl ;;
		armv7 | armv7-unknown-linux-musleabihf) echo armv7-unknown-linux-musleabihf ;;
		aarch64 | aarch64-unknown-linux-musl) echo aarch64-unknown-linux-musl ;;
		x86_64 | x86_64-unknown-linux-musl) echo x86_64-unknown-linux-musl ;;
		*) return 1 ;;
	esac
}

# vrrpd_opkg_arch TRIPLE: the OpenWrt package architecture of the reference SoC for the triple
# (the binary also runs on the others with the same ISA and float ABI; build-ipk.sh -a names them).
vrrpd_opkg_arch() {
	case "$1" in
		mipsel-unknown-linux-musl) echo mipsel_24kc ;;
		mips-unknown-linux-musl) echo mips_24kc ;;
		armv7-unknown-linux-musleabihf) echo arm_cortex-a7_neon-vfpv4 ;;
		aarch64-unknown-linux-musl) echo aarch64_cortex-a53 ;;
		x86_64-unknown-linux-musl) echo x86_64 ;;
		*) return 1 ;;
	esac
}

# vrrpd_qemu TRIPLE: the qemu-user program that runs the triple's binaries here (empty on x86_64).
vrrpd_qemu() {
	case "$1" in
		mipsel-*) echo qemu-mipsel-static ;;
		mips-*) echo qemu-mips-static ;;
		armv7-*) echo qemu-arm-static ;;
		aarch64-*) echo qemu-aarch64-static ;;
		x86_64-*) echo "" ;;
		*) return 1 ;;
	esac
}
