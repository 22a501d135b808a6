#!/usr/bin/env bash
# Cold start of a whole process, JIT vs NativeAOT: `nativeig classify IMAGE` from exec to exit, the way a
# script or a serverless function pays it. BenchmarkDotNet measures inside one process, so this one is a
# script: each variant runs RUNS times (after one unmeasured run that warms the file cache) and the
# median wall time is printed. Usage: bash bench/scripts/cold-start.sh [IMAGE] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
image=${1:-src/Cli/Examples/giant_panda.jpg}
runs=${2:-11}
: "${NATIVEIG_WEIGHTS:=../shared/weights/bvlc_googlenet.caffemodel}"
export NATIVEIG_WEIGHTS DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
dotnet build src/Cli -c Release -o "$out/jit" >/dev/null
dotnet publish src/Cli -c Release -r linux-x64 -p:PublishAot=true -o "$out/aot" >/dev/null
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
measure() {
  "$@" >/dev/null
  for _ in $(seq "$runs"); do
    local start end
    start=$(date +%s%N); "$@" >/dev/null; end=$(date +%s%N)
    echo $(( (end - start) / 1000000 ))
  done | median
}
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
printf '%-28s %s\n' "JIT ($("$out/jit/nativeig" --version | sed 's/.*kernels: \([^;]*\);.*/\1/'))" "$(measure "$out/jit/nativeig" classify "$image" --top 1) ms"
printf '%-28s %s\n' "NativeAOT ($("$out/aot/nativeig" --version | sed 's/.*kernels: \([^;]*\);.*/\1/'))" "$(measure "$out/aot/nativeig" classify "$image" --top 1) ms"
printf '%-28s %s MB\n' "NativeAOT executable" "$(( $(stat -c %s "$out/aot/nativeig") / 1048576 ))"
