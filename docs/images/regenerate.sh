#!/usr/bin/env bash
# Redraws every picture the README and docs/backprop.md show, from the repository's own example photo
# (src/Cli/Examples/giant_panda.jpg, Kevin Dooley, CC BY 2.0) and the tutorial's toy function:
#   bash docs/images/regenerate.sh        (needs the weights: bash weights/fetch.sh, or NATIVEIG_WEIGHTS)
# tests/ReadmeFigureTests.cs checks the same pictures' properties (size, titles, colour bar) on every run.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=docs/images
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
panda=src/Cli/Examples/giant_panda.jpg
nativeig() { dotnet run --project src/Cli -c Release -- "$@"; }
nativeig explain "$panda" --quiet --out "$work/panda"                        # the tutorial's figure (percentile clipping at 99)
nativeig explain "$panda" --quiet --signed --out "$work/signed"               # the signed map, diverging colours, legend
nativeig explain "$panda" --quiet --output logit --out "$work/logit"          # the saturation plot of the logit
nativeig compare "$panda" --quiet --out "$work/compare"                       # every method side by side (README "Methods")
cp "$work/panda/figure.png" "$out/panda-figure.png"
cp "$work/compare/compare.png" "$out/panda-compare.png"
cp "$work/signed/figure.png" "$out/panda-signed.png"
cp "$work/logit/saturation.png" "$out/panda-saturation-logit.png"
cp "$work/panda/interpolation.png" "$out/panda-interpolation.png"
dotnet run samples/saturating-function.cs -- "$out/saturating-function.png"
ls -l "$out"/*.png
