#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60) each and fails if any of them crashes.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# Needs cargo-fuzz (cargo install cargo-fuzz) and nightly, or stable with RUSTC_BOOTSTRAP=1 on a
# machine that has only stable. Each target starts
# from the committed seeds in fuzz/seeds/TARGET plus whatever fuzz/corpus/TARGET holds from
# earlier runs (not committed). A crash leaves its input in fuzz/artifacts/TARGET/; turn it
# into a regression test with the offending bytes before fixing the bug.
set -euo pipefail
cd "$(dirname "$0")"

secs="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(rx_check vrrp_parse arp_parse netlink_parse config_load connector_parse)
fi

if rustup run nightly rustc -V >/dev/null 2>&1; then
    toolchain=nightly
else
    # The sanitizer flags cargo-fuzz passes are unstable; stable's compiler has them behind this.
    toolchain=stable
    export RUSTC_BOOTSTRAP=1
fi

# Build once for all targets, so the time budget goes to fuzzing.
if ! nice -n 15 cargo +"$toolchain" fuzz build -O >/tmp/vrrpd-fuzz-build.log 2>&1; then
    tail -n 40 /tmp/vrrpd-fuzz-build.log
    echo "fuzz: build failed"
    exit 1
fi

failed=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    echo "fuzz: $t for ${secs}s"
    # -max_total_time bounds the run; -rss_limit_mb catches unbounded allocation;
    # -timeout flags any single input that takes over 10 s (a hang).
    if ! nice -n 15 cargo +"$toolchain" fuzz run -O "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 >"/tmp/vrrpd-fuzz-$t.log" 2>&1; then
        echo "fuzz: $t FAILED; see /tmp/vrrpd-fuzz-$t.log and fuzz/artifacts/$t/"
        tail -n 30 "/tmp/vrrpd-fuzz-$t.log"
        failed+=("$t")
    else
        grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "/tmp/vrrpd-fuzz-$t.log" |
            tr '\n' ' ' | sed "s/^/fuzz: $t ok: /"
        echo
    fi
done

if [ ${#failed[@]} -ne 0 ]; then
    echo "fuzz: crashes in: ${failed[*]}"
    exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${secs}s without a crash"
