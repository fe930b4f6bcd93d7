#!/usr/bin/env bash
# Compare `caracal test` with the public panther-analysis-tool (PAT) on the same packs:
# per test case, pass/fail and what each function gave (title, dedup, alert context,
# severity, ...), printed side by side, plus wall time. Installs PAT from PyPI into a
# virtualenv under $HOME/.cache/caracal/pat-venv the first time (with
# panther-detection-helpers, which rules importing the caching module need); skips
# (exit 0) if that is impossible. Not part of scripts/test: it needs the network once.
#
# Usage: scripts/compare-pat.sh [PACK...]
#   (default: policies rules crates/caracal-python/tests/data/compat)
# Needs a built caracal binary: $CARACAL (default: $CARGO_TARGET_DIR/debug/caracal).
# Exit: 0 same results everywhere, 1 a difference, 2 setup error.
set -euo pipefail
cd "$(dirname "$0")/.."
packs=("$@")
[ ${#packs[@]} -eq 0 ] && packs=(policies rules crates/caracal-python/tests/data/compat)

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

# Both tools print "<DetectionID>", "\t[PASS|FAIL] <test>", then "\t\t[PASS|FAIL]
# [<function>] <value>" per function. Normalise to "<id>\t<test>\t<what>\t<result>"
# rows, where <what> is "test" (result PASS/FAIL) or a function name (result its value).
# A test whose Mocks name something the module lacks: PAT logs a warning and counts the
# test failed; caracal prints it FAIL with a "[mocks]" line. Both become a FAIL row.
normalise() {
  sed 's/\x1b\[[0-9;]*m//g' "$1" | awk '
    /^WARNING: AttributeError: .* for \[[^]]*\] in test \[.*\]$/ {
                             n = split($0, parts, "] in test \\[");
                             test = substr(parts[n], 1, length(parts[n]) - 1);
                             head = parts[n - 1]; det = substr(head, match(head, /for \[[^]]*$/) + 5);
                             print det "\t" test "\ttest\tFAIL"; next }
    /^\t\t\[FAIL\] \[mocks\] / { next }
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/ { id = $0; next }
    /^\t\[(PASS|FAIL)\] / { st = ($0 ~ /^\t\[PASS\]/) ? "PASS" : "FAIL";
                             test = substr($0, index($0, "] ") + 2); print id "\t" test "\ttest\t" st; next }
    /^\t\t\[(PASS|FAIL)\] \[[A-Za-z_]+\] / { rest = substr($0, index($0, "] [") + 3);
                             fn = substr(rest, 1, index(rest, "]") - 1);
                             print id "\t" test "\t" fn "\t" substr(rest, index(rest, "] ") + 2) }
  ' | sort
}

status=0
for pack in "${packs[@]}"; do
  start=$(date +%s.%N)
  (cd "$pack" && "$venv/bin/panther_analysis_tool" test --path . >"$work/pat.txt" 2>&1) || true
  pat_secs=$(echo "$(date +%s.%N) - $start" | bc)
  start=$(date +%s.%N)
  # Both run with the same third-party modules (policyuniverse, ...): PAT's venv.
  "$caracal" test --venv "$venv" "$pack" >"$work/caracal.txt" || true
  caracal_secs=$(echo "$(date +%s.%N) - $start" | bc)
  normalise "$work/pat.txt" >"$work/pat.tsv"
  normalise "$work/caracal.txt" >"$work/caracal.tsv"

  # Specs PAT refuses outright (it only knows Panther's resource types; caracal adds some,
  # such as AWS.EC2.RegionSettings) have no PAT results: name them, compare the rest.
  refused=$(sed 's/\x1b\[[0-9;]*m//g' "$work/pat.txt" | awk '/^Invalid Tests Summary/ { on = 1; next }
    on && /^\t[^\t]/ { sub(/^\t/, ""); print } /^-+$/ && on { on = 0 }' | sort -u)
  if [ -n "$refused" ]; then
    cut -f1 "$work/pat.tsv" | sort -u >"$work/pat_ids.txt"
    awk -F'\t' 'FILENAME == ARGV[1] { ran[$1] = 1; next } !($1 in ran)' "$work/pat_ids.txt" "$work/caracal.tsv" \
      | cut -f1 | sort -u >"$work/only_caracal.txt"
    awk -F'\t' 'FILENAME == ARGV[1] { skip[$1] = 1; next } !($1 in skip)' "$work/only_caracal.txt" "$work/caracal.tsv" \
      >"$work/caracal_common.tsv"
    mv "$work/caracal_common.tsv" "$work/caracal.tsv"
    echo "$pack: panther-analysis-tool refused these specs (compared without them):"
    sed 's/^/  /' <<<"$refused"
    echo "$pack: their detections, tested by caracal only: $(tr '\n' ' ' <"$work/only_caracal.txt")"
  fi

  # Side by side, one row per test case: PAT's result, caracal's, and whether the
  # functions' printed values agree.
  python3 - "$work/pat.tsv" "$work/caracal.tsv" <<'PY'
import sys
from collections import defaultdict

def read(path):
    rows = defaultdict(dict)
    for line in open(path):
        det, test, what, result = (line.rstrip("\n").split("\t", 3) + ["", "", "", ""])[:4]
        rows[(det, test)][what] = result
    return rows

pat, car = read(sys.argv[1]), read(sys.argv[2])
width = max((len(f"{d} / {t}") for d, t in set(pat) | set(car)), default=10)
print(f"{'detection / test':<{width}}  {'PAT':<4}  {'caracal':<7}  functions")
for key in sorted(set(pat) | set(car)):
    p, c = pat.get(key, {}), car.get(key, {})
    fns = sorted((set(p) | set(c)) - {"test"})
    differ = [f for f in fns if p.get(f) != c.get(f)]
    note = "same" if not differ else "differ: " + ", ".join(differ)
    if not fns:
        note = "-"
    print(f"{key[0] + ' / ' + key[1]:<{width}}  {p.get('test', '-'):<4}  {c.get('test', '-'):<7}  {note}")
PY
  cases=$(grep -c $'\ttest\t' "$work/caracal.tsv" || true)
  printf '%s: %d test cases; panther-analysis-tool %.2f s, caracal %.2f s (%.1fx)\n' \
    "$pack" "$cases" "$pat_secs" "$caracal_secs" "$(echo "$pat_secs / $caracal_secs" | bc -l)"
  if diff -u "$work/pat.tsv" "$work/caracal.tsv" >"$work/diff.txt"; then
    echo "$pack: same pass/fail and function results for every test case"
  else
    echo "$pack: results differ (- panther-analysis-tool, + caracal):"
    cat "$work/diff.txt"
    [ -s "$work/pat.tsv" ] || { echo "--- panther-analysis-tool output:"; head -40 "$work/pat.txt"; }
    status=1
  fi
done
exit $status
