#!/usr/bin/env bash
# Compare `caracal test` with the public panther-analysis-tool (PAT) on the same packs:
# pass/fail per test case and wall time. Installs PAT from PyPI into a virtualenv under
# $HOME/.cache/caracal/pat-venv the first time (with panther-detection-helpers, which
# rules importing the caching module need); skips (exit 0) if that is impossible.
#
# Usage: scripts/compare-pat.sh [PACK...]      (default: policies rules)
# Needs a built caracal binary: $CARACAL (default: $CARGO_TARGET_DIR/debug/caracal).
set -euo pipefail
cd "$(dirname "$0")/.."
packs=("$@")
[ ${#packs[@]} -eq 0 ] && packs=(policies rules)

venv="$HOME/.cache/caracal/pat-venv"
target="${CARGO_TARGET_DIR:-$HOME/.cache/caracal/target}"
caracal="${CARACAL:-$target/debug/caracal}"
if [ ! -x "$venv/bin/panther_analysis_tool" ]; then
  python3 -m venv "$venv" && "$venv/bin/pip" install -q panther-analysis-tool panther-detection-helpers \
    || { echo "compare-pat: cannot install panther-analysis-tool; skipping"; exit 0; }
fi
[ -x "$caracal" ] || { echo "compare-pat: no caracal binary at $caracal (cargo build -p caracal)"; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
status=0
for pack in "${packs[@]}"; do
  # PAT prints "<DetectionID>" then "\t[PASS] <test name>" lines; normalise both tools'
  # results to "<id>\t<test>\tPASS|FAIL", sorted.
  start=$(date +%s.%N)
  (cd "$pack" && "$venv/bin/panther_analysis_tool" test --path . >"$work/pat.txt" 2>&1) || true
  pat_secs=$(echo "$(date +%s.%N) - $start" | bc)
  sed 's/\x1b\[[0-9;]*m//g' "$work/pat.txt" | awk '
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/ { id = $0; next }
    /^\t\[(PASS|FAIL)\] / { split($0, a, "] "); st = ($0 ~ /\[PASS\]/) ? "PASS" : "FAIL";
                             name = substr($0, index($0, "] ") + 2); print id "\t" name "\t" st }
  ' | sort >"$work/pat.tsv"

  start=$(date +%s.%N)
  "$caracal" test "$pack" --output json >"$work/caracal.json" || true
  caracal_secs=$(echo "$(date +%s.%N) - $start" | bc)
  python3 - "$work/caracal.json" >"$work/caracal.tsv" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
for det in report["detections"]:
    for t in det["tests"]:
        print(f'{det["id"]}\t{t["name"]}\t{"PASS" if t["passed"] else "FAIL"}')
PY
  sort -o "$work/caracal.tsv" "$work/caracal.tsv"

  # Specs PAT refuses outright (it only knows Panther's resource types; caracal adds some,
  # such as AWS.EC2.RegionSettings) have no PAT results: name them, compare the rest.
  refused=$(sed 's/\x1b\[[0-9;]*m//g' "$work/pat.txt" | awk '/^Invalid Tests Summary/ { on = 1; next }
    on && /^\t[^\t]/ { sub(/^\t/, ""); print } /^-+$/ && on { on = 0 }' | sort -u)
  if [ -n "$refused" ]; then
    cut -f1 "$work/pat.tsv" | sort -u >"$work/pat_ids.txt"
    awk -F'\t' 'NR == FNR { ran[$1] = 1; next } !($1 in ran)' "$work/pat_ids.txt" "$work/caracal.tsv" \
      | cut -f1 | sort -u >"$work/only_caracal.txt"
    awk -F'\t' 'NR == FNR { skip[$1] = 1; next } !($1 in skip)' "$work/only_caracal.txt" "$work/caracal.tsv" \
      >"$work/caracal_common.tsv"
    mv "$work/caracal_common.tsv" "$work/caracal.tsv"
    echo "$pack: panther-analysis-tool refused these specs (compared without them):"
    sed 's/^/  /' <<<"$refused"
    echo "$pack: their detections, tested by caracal only: $(tr '\n' ' ' <"$work/only_caracal.txt")"
  fi
  cases=$(wc -l <"$work/caracal.tsv")
  printf '%s: %d test cases; panther-analysis-tool %.2f s, caracal %.2f s (%.1fx)\n' \
    "$pack" "$cases" "$pat_secs" "$caracal_secs" "$(echo "$pat_secs / $caracal_secs" | bc -l)"
  if diff -u "$work/pat.tsv" "$work/caracal.tsv" >"$work/diff.txt"; then
    echo "$pack: same pass/fail for every test case"
  else
    echo "$pack: results differ (- panther-analysis-tool, + caracal):"
    cat "$work/diff.txt"
    [ -s "$work/pat.tsv" ] || { echo "--- panther-analysis-tool output:"; head -40 "$work/pat.txt"; }
    status=1
  fi
done
exit $status
