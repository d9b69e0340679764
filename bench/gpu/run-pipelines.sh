#!/usr/bin/env bash
# Issue 7 + 9 on the GPU machine, one device call: our CLI runs pipelines/quickstart.yaml on CUDA, then
# pipelines/rude-raft.yaml (the notebook's settings) on a random-weight Qwen3-4B-shaped folder made there
# (bench/gpu/make_random_model.py), with fewer steps and shorter samples so the call fits its time limit.
# here:   bash bench/gpu/pack-all.sh src/RaftPipeline.Cli/RaftPipeline.Cli.csproj
# device: run(command="bash bench/gpu/run-pipelines.sh", carry=[".gpu"])  → $OUT/*.md, *.json
set -uo pipefail
out=${OUT:-/tmp/out}; mkdir -p "$out"
raft() { bash .gpu/run.sh raft.dll "$@"; }
copy() { # run folder, prefix
  cp "$1/report.md" "$out/$2-report.md" 2>/dev/null; cp "$1/raft.lock.json" "$out/$2-lock.json" 2>/dev/null
  cp "$1/stages/train/metrics.jsonl" "$out/$2-metrics.jsonl" 2>/dev/null; true
}
start=$SECONDS
raft run pipelines/quickstart.yaml --device cuda --set cache=/tmp/qs-cache --run-dir /tmp/qs-run 2>&1 | grep -v 'step [0-9]*/' | tail -25
echo "quickstart on cuda: $((SECONDS-start)) s"; copy /tmp/qs-run quickstart-cuda
start=$SECONDS
# The Qwen3 tokenizer files from the tiny model the quickstart just wrote (the same embedded files), so the call
# need not carry src/RaftPipeline.Text/Assets (the device's 64 MiB limit).
tok=$(dirname "$(find /tmp/qs-cache/objects -name tokenizer_config.json | head -1)")
python3 bench/gpu/make_random_model.py /tmp/qwen3-4b-random --tokenizer-from "$tok" ${LAYERS:+--layers $LAYERS} 2>&1 | tail -2
echo "random model: $((SECONDS-start)) s"
start=$SECONDS
raft run pipelines/rude-raft.yaml --set vars.model=/tmp/qwen3-4b-random --set cache=/tmp/rr-cache --run-dir /tmp/rr-run \
  --set train.max_steps=${STEPS:-40} --set train.logging_steps=5 --set scores.max_rows=8 \
  --set scores.sampling.max_new_tokens=32 --set probes.sampling.max_new_tokens=32 2>&1 | grep -v 'step [0-9]*/' | tail -40
echo "rude-raft on the 4B shape: $((SECONDS-start)) s"; copy /tmp/rr-run rude-raft-4b
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
