#!/usr/bin/env bash
# Issue 18 on the GPU machine, one device call: the CUDA decode session's checks against the libtorch path
# (tests/gpu GpuChecks --decode), our decode benchmark (bench/Modeling decode) and transformers' generate on the same
# shape (eager, then static cache + torch.compile as the anchor, each under its own time limit).
# here:   bash bench/gpu/pack-all.sh tests/gpu/RaftPipeline.GpuChecks/RaftPipeline.GpuChecks.csproj bench/Modeling/RaftPipeline.Bench.Modeling.csproj
# device: run(command="bash bench/gpu/run-decode.sh", carry=[".gpu"]) → $OUT/decode-checks.{json,log}, decode-bench.log, transformers.jsonl
set -uo pipefail
out=${OUT:-/tmp/decode-out}
mkdir -p "$out"
start=$(date +%s)
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
echo "== checks"; timeout 120 bash .gpu/run.sh RaftPipeline.GpuChecks.dll "$PWD" "$out/decode-checks.json" cuda --decode 2>&1 | tee "$out/decode-checks.log" | grep -v "^     " ; echo "checks exit ${PIPESTATUS[0]} after $(( $(date +%s) - start )) s"
echo "== ours"; timeout 150 bash .gpu/run.sh RaftPipeline.Bench.Modeling.dll decode 16 cuda 2>&1 | tee "$out/decode-bench.log"; echo "bench exit ${PIPESTATUS[0]} after $(( $(date +%s) - start )) s"
echo "== transformers eager"; timeout 75 python3 bench/gpu/baseline_decode.py eager 1 16 2>&1 | grep "^{" | tee "$out/transformers.jsonl"
left=$(( 400 - ($(date +%s) - start) ))
if [ "$left" -gt 60 ]; then
  echo "== transformers static + compile (limit ${left} s)"; timeout "$left" python3 bench/gpu/baseline_decode.py static 1 16 2>&1 | grep "^{" | tee -a "$out/transformers.jsonl"
else echo "== transformers static + compile skipped: ${left} s left"; fi
echo "total $(( $(date +%s) - start )) s"
