#!/usr/bin/env bash
# Regenerates docs/realism.png: simulated against WRAP's distributions for a few aircraft
# types and statistics (the empirical CDF of the simulated flights, WRAP's fitted CDF), and,
# given an older build, that build's flights too.
# usage: tests/realism/plot.sh [BUILD_DIR] [PYTHON] [OUT_PNG] [BEFORE_BUILD_DIR] [KEEP_DIR]
#   BUILD_DIR default build; PYTHON default .stack/venv/bin/python (openap, scipy);
#   OUT_PNG default docs/realism.png; BEFORE_BUILD_DIR: a build of the model before
#   (its skyload and tests/tools/sky_plan_info), drawn dashed; KEEP_DIR: where to keep
#   both runs' reports (after.json, after.txt, before.json, before.txt).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
py=${2:-${SKY_STACK_DIR:-$src/.stack}/venv/bin/python}
out=${3:-$src/docs/realism.png}
before=${4:-}
keep=${5:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash "$here/run.sh" "$build/skyload" "$build" "$py" "$work/after" "$here/world.yaml" \
  --report-only --plot-dir "$work/after/plot" --json "$work/after.json" >"$work/after.txt"
if [[ -n $before ]]; then
  bash "$here/run.sh" "$before/skyload" "$before" "$py" "$work/before" "$here/world.yaml" \
    --report-only --no-wind --plot-dir "$work/before/plot" --json "$work/before.json" \
    >"$work/before.txt"
fi
panels=("a320 cl_vs_avg_cas_const climb rate at constant CAS (m/s), A320"
  "a320 de_vs_avg_after_cas descent rate after constant CAS (m/s), A320"
  "b737 cr_h_init initial cruise altitude (km), B737"
  "a320 cr_v_mach_mean mean cruise Mach, A320"
  "b737 fa_va_avg final approach speed (CAS, m/s), B737"
  "b789 cr_v_mach_mean mean cruise Mach, B789")
{
  echo "set terminal pngcairo size 1500,900 font ',10'"
  echo "set output '$out'"
  echo "set multiplot layout 2,3 title 'skyload simulate vs OpenAP WRAP (world network, 6 h, seed 11)'"
  echo "set key bottom right; set grid; set ylabel 'CDF'"
  for p in "${panels[@]}"; do
    read -r model var title <<<"$p"
    f="$work/after/plot/$model.$var.dat" b="$work/before/plot/$model.$var.dat"
    echo "set title '$title'"
    cmd="plot '$f' using 1:3 with lines lw 2 lc rgb '#888888' title 'WRAP', '$f' using 1:2 with steps lw 2 lc rgb '#1f77b4' title 'simulated'"
    [[ -f $b ]] && cmd+=", '$b' using 1:2 with steps lw 1.5 dt 2 lc rgb '#d62728' title 'before (constant figures)'"
    echo "$cmd"
  done
  echo "unset multiplot"
} >"$work/plot.gp"
gnuplot "$work/plot.gp"
if [[ -n $keep ]]; then
  mkdir -p "$keep"
  cp "$work"/*.json "$work"/*.txt "$keep"/
fi
echo "plot.sh: wrote $out" >&2
