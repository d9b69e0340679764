#!/usr/bin/env bash
# Packs several of our programs into one .gpu/ for a single device call: ../shared/gpu/pack.sh for the first, then
# `dotnet publish` of the others into the same .gpu/app (they share every dependency version), minus libtorch's CPU
# binaries as pack.sh removes them. Default: the CLI, the training and modeling benches and the CUDA checks.
# usage (repo root): bash bench/gpu/pack-all.sh [project.csproj ...]
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
projects=("$@")
[ ${#projects[@]} -gt 0 ] || projects=(src/RaftPipeline.Cli/RaftPipeline.Cli.csproj bench/Training/RaftPipeline.Bench.Training.csproj
  bench/Modeling/RaftPipeline.Bench.Modeling.csproj tests/gpu/RaftPipeline.GpuChecks/RaftPipeline.GpuChecks.csproj)
bash ../shared/gpu/pack.sh "${projects[0]}" >/dev/null
for p in "${projects[@]:1}"; do
  dotnet publish "$p" -c Release -r linux-x64 --self-contained false -o .gpu/app >/dev/null
done
find .gpu/app -maxdepth 3 -type f \( -name 'libtorch*.so*' -o -name 'libc10*.so*' -o -name 'libgomp*.so*' \
  -o -name 'libaoti_custom_ops.so' -o -name 'libbackend_with_compiler.so' -o -name 'libjitbackend_test.so' \
  -o -name 'libnnapi_backend.so' -o -name 'libshm.so' \) -delete
rm -rf .gpu/app/{cs,de,es,fr,it,ja,ko,pl,pt-BR,ru,tr,zh-Hans,zh-Hant}
du -sh .gpu
