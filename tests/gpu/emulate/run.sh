#!/usr/bin/env bash
# Builds and runs check_kernels.cpp: the decode kernels on the CPU (cuda_on_cpu.h) against plain loops. For working on
# the kernels without a GPU; the GPU checks are the proof. usage (repo root): bash tests/gpu/emulate/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../../src/RaftPipeline.Modeling/Native/Cuda" && pwd)
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
# The sources as they are, except the two inline-PTX loads (plain copies on the CPU) and the dynamic shared array.
cat "$src/Kernels/00_common.cu" "$src/Decode/Kernels/"*.cu | python3 -c '
import re, sys
s = sys.stdin.read()
s = re.sub(r"asm\(\"ld\.global\.nc\.v4\.u32.*\);$", "std::memcpy(&v, p, 16);", s, flags=re.M)
s = re.sub(r"asm\(\"ld\.global\.nc\.v2\.u32.*\);$", "std::memcpy(&v, p, 8);", s, flags=re.M)
s = s.replace("extern __shared__ float scores[];", "float* scores = (float*)g_dynamic_shared.data();")
s = s.replace("extern \"C\" ", "")
sys.stdout.write(s)' > "$build/kernels.inc"
g++ -std=c++20 -O1 -pthread -I"$here" -I"$build" "$here/check_kernels.cpp" -o "$build/check_kernels"
"$build/check_kernels"
