#!/usr/bin/env bash
# Static, stripped vrrpd binaries for OpenWrt-class routers, without Docker.
#
#   cross/build.sh [TARGET...]        (default: all targets below)
#
# TARGET is a Rust triple or its short name:
#   mipsel   mipsel-unknown-linux-musl        (OpenWrt mipsel_24kc, soft-float)
#   mips     mips-unknown-linux-musl          (OpenWrt mips_24kc, soft-float)
#   armv7    armv7-unknown-linux-musleabihf   (OpenWrt arm_cortex-a7_neon-vfpv4 and other armv7 hf)
#   aarch64  aarch64-unknown-linux-musl       (OpenWrt aarch64_cortex-a53 and other aarch64)
#   x86_64   x86_64-unknown-linux-musl        (OpenWrt x86_64)
#
# Output: dist/vrrpd-VERSION-TRIPLE, one static stripped binary per target, and a size line each.
# Fails when a binary is not statically linked or not stripped, or when the mipsel one is over
# the size budget.
#
# How: x86_64 builds on stable with Rust's own musl. Every other target builds on nightly with
# -Zbuild-std (mips* have no prebuilt std at all; building std for armv7/aarch64 too keeps one route
# and lets panics compile to a bare abort, the biggest size win) and links with zig through
# cargo-zigbuild: zig carries musl, the crt objects and libunwind for every target, including the
# soft-float mipsel ABI that OpenWrt uses and Debian's hard-float musl does not match.
# Installs what is missing: `file` (apt), ziglang + cargo-zigbuild (PyPI, into a virtualenv),
# rust-src for nightly and the x86_64 musl std for stable (rustup), llvm (apt) for llvm-objcopy.
#
# Environment:
#   VENV=DIR        virtualenv holding ziglang + cargo-zigbuild (default ~/.cache/vrrpd-zig-venv)
#   NIGHTLY=NAME    rustup toolchain for build-std targets (default: nightly if installed, else
#                   stable with RUSTC_BOOTSTRAP=1, which unlocks the same -Z flags)
#   NICE=N          run cargo under `nice -n N` (CI: 15; the machines are shared)
#   BUDGET_KIB=N    mipsel size budget in KiB (default 640)
#   PANIC=abort     keep panic messages and unwind tables (bigger); default immediate-abort
#   EXTRA_RUSTFLAGS more rustc flags for the build-std targets
#   OFFLINE=1       install nothing; fail if a tool is missing
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

VENV=${VENV:-$HOME/.cache/vrrpd-zig-venv}
if [ -z "${NIGHTLY:-}" ]; then
	if rustup run nightly rustc -V >/dev/null 2>&1; then
		NIGHTLY=nightly
	else
		# Machines that have only stable (and cannot fetch another toolchain) still build.
		NIGHTLY=stable
		export RUSTC_BOOTSTRAP=1
	fi
fi
BUDGET_KIB=${BUDGET_KIB:-640}
PANIC=${PANIC:-immediate-abort}

say() { printf 'build.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

. "$root/cross/targets.sh"

targets=()
for t in "${@:-$VRRPD_TARGETS}"; do
	for w in $t; do
		tr=$(vrrpd_triple "$w") || die "unknown target '$w' (want: mipsel mips armv7 aarch64 x86_64, or their triples)"
		targets+=("$tr")
	done
done

version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)
[ -n "$version" ] || die "no version in Cargo.toml"

# ---- tools ----------------------------------------------------------------------------------------
need_zig=0
need_musl_std=0
for t in "${targets[@]}"; do
	case "$t" in
		x86_64-unknown-linux-musl) need_musl_std=1 ;;
		*) need_zig=1 ;;
	esac
done

if ! command -v file >/dev/null; then
	[ "${OFFLINE:-0}" = 1 ] && die "'file' is missing (apt-get install file)"
	say "installing 'file' with apt-get"
	apt-get install -y -qq file >/dev/null || { apt-get update -qq && apt-get install -y -qq file >/dev/null; }
fi

if [ "$need_zig" = 1 ]; then
	if [ ! -x "$VENV/bin/cargo-zigbuild" ] || [ ! -x "$VENV/bin/python-zig" ]; then
		[ "${OFFLINE:-0}" = 1 ] && die "no cargo-zigbuild in $VENV"
		say "installing ziglang and cargo-zigbuild into $VENV (PyPI)"
		python3 -m venv "$VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
		"$VENV/bin/pip" install -q --disable-pip-version-check 'ziglang==0.17.*' 'cargo-zigbuild==0.24.*'
	fi
	# cargo-zigbuild finds zig through the ziglang wheel's python-zig in the same venv.
	export PATH="$VENV/bin:$PATH"
	if ! rustup component list --installed --toolchain "$NIGHTLY" 2>/dev/null | grep -q '^rust-src'; then
		[ "${OFFLINE:-0}" = 1 ] && die "rust-src is missing for $NIGHTLY"
		say "adding rust-src to $NIGHTLY (needed by -Zbuild-std)"
		rustup component add rust-src --toolchain "$NIGHTLY" >/dev/null
	fi
fi
# llvm-objcopy from Debian's llvm package: one tool that knows every target's ELF (a Debian
# package, unlike rustup's llvm-tools, installs where only package registries are reachable).
objcopy=$(command -v llvm-objcopy || command -v llvm-objcopy-14 || true)
if [ -z "$objcopy" ]; then
	[ "${OFFLINE:-0}" = 1 ] && die "llvm-objcopy is missing (apt-get install llvm)"
	say "installing llvm (llvm-objcopy) with apt-get"
	apt-get install -y -qq llvm >/dev/null || { apt-get update -qq && apt-get install -y -qq llvm >/dev/null; }
	objcopy=$(command -v llvm-objcopy || command -v llvm-objcopy-14 || true)
fi
[ -n "$objcopy" ] || die "no llvm-objcopy after installing llvm"

if [ "$need_musl_std" = 1 ] && ! rustup target list --installed --toolchain stable 2>/dev/null | grep -qx x86_64-unknown-linux-musl; then
	[ "${OFFLINE:-0}" = 1 ] && die "stable has no x86_64-unknown-linux-musl std"
	say "adding x86_64-unknown-linux-musl to stable"
	rustup target add x86_64-unknown-linux-musl --toolchain stable >/dev/null
fi

# Only the per-target flags below may apply: a global RUSTFLAGS would override them and reach
# host build scripts too.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS
nice_cmd=()
[ -n "${NICE:-}" ] && nice_cmd=(nice -n "$NICE")

# ---- build ---------------------------------------------------------------------------------------
target_dir=${CARGO_TARGET_DIR:-$root/target}
mkdir -p dist
status=0
for t in "${targets[@]}"; do
	say "building $t"
	case "$t" in
		x86_64-unknown-linux-musl)
			# Prebuilt std and Rust's self-contained musl: static (static-pie) by default.
			"${nice_cmd[@]}" cargo +stable build --release --locked --target "$t" --bin vrrpd
			;;
		*)
			tu=$(echo "$t" | tr 'a-z-' 'A-Z_')
			# +crt-static: mips*-musl default to dynamic linking against ld-musl.
			# link-self-contained=no: a build-std sysroot has no self-contained crt objects;
			#   zig supplies crt1.o, libc.a and libunwind itself.
			flags="-C target-feature=+crt-static -C link-self-contained=no"
			# immediate-abort: panics become a trap, with no formatting or unwinding code linked in,
			# and then nothing needs unwind tables either. The daemon must not panic anyway; procd
			# respawns it if it ever does.
			[ "$PANIC" = immediate-abort ] &&
				flags="$flags -Zunstable-options -Cpanic=immediate-abort -C force-unwind-tables=no"
			# mips PIC code calls through the GOT; a static executable needs none of that.
			case "$t" in mips*) flags="$flags -C relocation-model=static" ;; esac
			export "CARGO_TARGET_${tu}_RUSTFLAGS=$flags ${EXTRA_RUSTFLAGS:-}"
			# The linker warns about a missing lib dir for the target in the nightly sysroot
			# (build-std never creates it); an empty one silences that.
			mkdir -p "$(rustc "+$NIGHTLY" --print sysroot)/lib/rustlib/$t/lib"
			"${nice_cmd[@]}" cargo "+$NIGHTLY" zigbuild --release --locked --target "$t" --bin vrrpd \
				-Zbuild-std=std,panic_abort
			;;
	esac
	out="dist/vrrpd-$version-$t"
	# Sections nothing reads at run time that the linker's strip keeps: .comment (tool versions)
	# and, on mips, .pdr (procedure descriptors, ~18% of the file), as OpenWrt's own strip does.
	"$objcopy" --remove-section=.pdr --remove-section=.comment "$target_dir/$t/release/vrrpd" "$out"
	desc=$(file -b "$out")
	size=$(stat -c %s "$out")
	printf '%-48s %8d bytes %6d KiB  %s\n' "$out" "$size" $(((size + 1023) / 1024)) "$desc"
	case "$desc" in
		*"statically linked"* | *"static-pie linked"*) ;;
		*) say "error: $out is not statically linked"; status=1 ;;
	esac
	case "$desc" in
		*", stripped"*) ;;
		*) say "error: $out is not stripped"; status=1 ;;
	esac
	if [ "$t" = mipsel-unknown-linux-musl ]; then
		if [ "$size" -gt $((BUDGET_KIB * 1024)) ]; then
			say "error: $out is $size bytes, over the ${BUDGET_KIB} KiB budget"
			status=1
		else
			say "mipsel size budget: $size of $((BUDGET_KIB * 1024)) bytes used"
		fi
	fi
done
exit $status
