#!/usr/bin/env bash
# Issue 18 on the GPU machine, one device call: the CUDA decode session's checks against the libtorch path
# (tests/gpu GpuChecks --decode), our decode benchmark (bench/Modeling decode) and transformers' generate on the same
# shape (eager, then static cache + torch.compile as the anchor). The whole script keeps within LIMIT_S (default 540 s):
# each stage runs under `timeout` with its share, and the compiled anchor only with what is left.
# here:   bash bench/gpu/pack-all.sh tests/gpu/RaftPipeline.GpuChecks/RaftPipeline.GpuChecks.csproj bench/Modeling/RaftPipeline.Bench.Modeling.csproj
# device: run(command="bash bench/gpu/run-decode.sh", carry=[".gpu"]) → $OUT/decode-checks.{json,log}, decode-bench.log, transformers.jsonl
set -uo pipefail
out=${OUT:-/tmp/decode-out}
limit=${LIMIT_S:-540}
mkdir -p "$out"
start=$(date +%s)
left() { echo $(( limit - ($(date +%s) - start) )); }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
echo "== checks (limit 170 s)"
timeout 170 bash .gpu/run.sh RaftPipeline.GpuChecks.dll "$PWD" "$out/decode-checks.json" cuda --decode > "$out/decode-checks.log" 2>&1
echo "checks exit $? after $(( $(date +%s) - start )) s"; grep -v "^     " "$out/decode-checks.log" | tail -40
echo "== ours (limit 200 s; the libtorch path decodes 64 new tokens, the session 128)"
RAFT_BENCH_LIBTORCH_NEW=64 timeout 200 bash .gpu/run.sh RaftPipeline.Bench.Modeling.dll decode 16 cuda > "$out/decode-bench.log" 2>&1
echo "bench exit $? after $(( $(date +%s) - start )) s"; cat "$out/decode-bench.log" | grep -v "^{"
t=$(left); [ "$t" -gt 60 ] && t=60
if [ "$t" -gt 20 ]; then
  echo "== transformers eager (limit $t s)"; timeout "$t" python3 bench/gpu/baseline_decode.py eager 1 16 2>&1 | grep "^{" | tee "$out/transformers.jsonl"
fi
t=$(left)
if [ "$t" -gt 45 ]; then
  echo "== transformers static + compile (limit $t s)"; timeout "$t" python3 bench/gpu/baseline_decode.py static 1 16 2>&1 | grep "^{" | tee -a "$out/transformers.jsonl"
else echo "== transformers static + compile skipped: $t s left"; fi
echo "total $(( $(date +%s) - start )) s"
