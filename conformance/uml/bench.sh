#!/usr/bin/env bash
# Wall time of the rfc9293 and linux corpora on each kernel: the host's
# (--target linux, real time) and each built UML kernel (virtual time),
# then RUNS runs of `replay tcp --target uml:6.1` whose verdicts must be
# identical: the counts line and the report's `verdicts:` list. The ladders are not compared: a second connect()
# shows its ISN relative to the first, and ISNs are random (RFC 6528).
#
#   conformance/uml/bench.sh [RUNS]      # default 10; run from the repo
#
# Needs root (the host's kernel run) and the kernels of build-kernel.sh;
# a kernel that is not built is skipped with a line saying so.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-10}
bin=target/release/tracewright
cargo build --release --quiet
out=target/uml-bench
rm -rf "$out"
mkdir -p "$out"

# One replay: prints "target corpus wall-seconds summary".
one() {
  local target=$1 profile=$2 report=$3 rc=0 t0 t1
  t0=$(date +%s.%N)
  "$bin" replay tcp --target "$target" --profile "$profile" --report "$report" >"$report.out" 2>"$report.err" || rc=$?
  t1=$(date +%s.%N)
  if [[ $rc == 3 ]]; then
    echo "$target $profile skipped: $(head -1 "$report.err")"
    return
  fi
  printf '%-9s %-8s %7.2f s wall  exit %s  %s\n' "$target" "$profile" \
    "$(echo "$t1 - $t0" | bc)" "$rc" "$(tail -1 "$report.out")"
}

echo "== each corpus on each kernel"
for target in linux uml:6.1 uml:6.12; do
  for profile in rfc9293 linux; do
    one "$target" "$profile" "$out/${target/:/-}-$profile.txt"
  done
done

# The traces whose verdicts differ between kernels, per corpus.
echo "== the listener corpus on each kernel"
for target in linux uml:6.1 uml:6.12; do
  t0=$(date +%s.%N) rc=0
  "$bin" replay tcp-listener --target "$target" >"$out/${target/:/-}-listener.out" 2>&1 || rc=$?
  t1=$(date +%s.%N)
  printf '%-9s %-8s %7.2f s wall  exit %s  %s\n' "$target" listener \
    "$(echo "$t1 - $t0" | bc)" "$rc" "$(grep -E '^[0-9]+ traces in' "$out/${target/:/-}-listener.out" | tail -1)"
done

echo "== verdicts that differ between kernels"
for profile in rfc9293 linux; do
  reports=()
  for target in linux uml-6.1 uml-6.12; do
    [[ -f $out/$target-$profile.txt ]] && reports+=("$out/$target-$profile.txt")
  done
  for r in "${reports[@]}"; do
    grep -E '^  [A-Z]+ +tcp-' "$r" | awk -v k="$(basename "$r" "-$profile.txt")" '{print $2, k, $1}'
  done | sort | awk -v p="$profile" -v n="${#reports[@]}" '
    { v[$1] = v[$1] " " $2 "=" $3; if (!(($1, $3) in seen)) { seen[$1, $3] = 1; kinds[$1]++ } }
    END { d = 0; for (t in v) if (kinds[t] > 1) { print p ": " t v[t]; d++ }
          print p ": " d " traces differ across " n " kernels" }'
done

echo "== $runs runs of replay tcp --target uml:6.1"
for i in $(seq "$runs"); do
  one uml:6.1 rfc9293 "$out/run-$i.txt"
done
distinct=$(for f in "$out"/run-*.txt; do
  grep -E '^(traces:|  [A-Z]+ +tcp-)' "$f" | sha256sum
done | sort -u | wc -l)
echo "distinct verdict sets over $runs runs: $distinct"
echo "distinct reports, byte for byte: $(sha256sum "$out"/run-*.txt | cut -d' ' -f1 | sort -u | wc -l)"
[[ $distinct == 1 ]]
