#!/usr/bin/env bash
# Correctness on CUDA (issues 3, 6, 9): runs tests/gpu/RaftPipeline.GpuChecks on the GPU machine.
# here:   ../shared/gpu/pack.sh tests/gpu/RaftPipeline.GpuChecks/RaftPipeline.GpuChecks.csproj
#         (the working tree + .gpu must stay under the device's 64 MiB: the qwen3_parity and chat_templates fixtures
#          are not needed by these checks and may be moved aside for the call)
# device: run(command="bash tests/gpu/run.sh", carry=[".gpu"])  → $OUT/gpu-checks.json; exit 1 if a check failed
# smoke test on CPU (here): dotnet run -c Release --project tests/gpu/RaftPipeline.GpuChecks -- . /tmp/gpu-checks.json cpu
set -euo pipefail
bash .gpu/run.sh RaftPipeline.GpuChecks.dll "$PWD" "${OUT:-/tmp}/gpu-checks.json"
