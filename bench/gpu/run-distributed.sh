#!/usr/bin/env bash
# Issue 10 on the GPU machine, one device call. Prints JSON lines (also in $OUT/distributed.jsonl), logs in $OUT/.
#  1. One GPU: the quickstart's train stage (shortened) trained plainly, with `--gpus 1` (NCCL, world size 1) and
#     with torchrun-style variables (RANK=0 WORLD_SIZE=1 ...): the adapters must match the plain run's.
#  2. If `nvidia-smi -L` lists ≥ 2 (and ≥ 4) GPUs: `--gpus N` vs one process with an N-times batch (equivalence),
#     then throughput on the Qwen3-4B shape (rude-raft.yaml's QLoRA train stage on random weights), per-device batch
#     fixed: tokens/s with 1, 2 (and 4) GPUs and the speed-up (issue 10 asks ≥ 1.85× on 2, ≥ 3.6× on 4).
# here:   bash bench/gpu/pack-all.sh src/RaftPipeline.Cli/RaftPipeline.Cli.csproj
# device: run(command="bash bench/gpu/run-distributed.sh", carry=[".gpu"])   (PARTS="one" or "one many" to choose)
set -uo pipefail
out=${OUT:-/tmp/out}; mkdir -p "$out"
results="$out/distributed.jsonl"
raft() { bash .gpu/run.sh raft.dll "$@"; }
gpus=$(nvidia-smi -L | grep -c '^GPU')
parts=${PARTS:-one many}
steps=${STEPS:-20}
rm -rf /tmp/dist  # a warm machine keeps the last call's runs: start clean
echo "{\"gpus\": $gpus, \"devices\": \"$(nvidia-smi --query-gpu=name --format=csv,noheader | sort | uniq -c | xargs)\"}" | tee -a "$results"

# quickstart's train stage, shortened; every run gets its own cache so nothing is reused across variants.
qs() { # name, extra args...
  local name=$1; shift
  local start=$SECONDS
  raft run pipelines/quickstart.yaml train --device cuda --set cache=/tmp/dist/$name-cache --run-dir /tmp/dist/$name-run \
    --set train.max_steps=$steps --set train.logging_steps=5 "$@" > "$out/$name.log" 2>&1
  local rc=$?
  grep -E 'NCCL|effective batch|failed|rank [0-9]+' "$out/$name.log" | grep -v 'step [0-9]*/' | head -8
  echo "$name: exit $rc in $((SECONDS-start)) s"
  return $rc
}
artifact() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["stages"]["train"]["artifact"])' "/tmp/dist/$1-run/raft.lock.json"; }
compare() { # check name, reference run, candidate run
  python3 bench/gpu/compare_adapters.py "$1" "$(artifact "$2")" "$(artifact "$3")" | tee -a "$results"
}

if [[ " $parts " == *" one "* ]]; then
  qs plain
  qs gpus1 --gpus 1 && compare "gpus 1 (NCCL, world size 1) vs plain" plain gpus1
  ( export RANK=0 WORLD_SIZE=1 LOCAL_RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=29531; qs env1 ) \
    && compare "torchrun-style env, world size 1, vs plain" plain env1
fi

if [[ " $parts " == *" many "* ]] && (( gpus >= 2 )); then
  for n in 2 4; do
    (( gpus >= n )) || continue
    qs "batch$n" --set train.batch_size=$((2 * n))
    qs "gpus$n" --gpus $n && compare "gpus $n vs 1 process with batch x$n" "batch$n" "gpus$n"
  done
  # Throughput on the Qwen3-4B shape, per-device batch 2 × 1000 tokens, QLoRA (NF4 base, adamw_8bit, checkpointing).
  tok=$(dirname "$(find /tmp/dist/plain-cache/objects -name tokenizer_config.json | head -1)")
  python3 bench/gpu/make_random_model.py /tmp/qwen3-4b-random --tokenizer-from "$tok" > "$out/make_model.log" 2>&1
  for n in 1 2 4; do
    (( gpus >= n )) || continue
    start=$SECONDS
    raft run pipelines/rude-raft.yaml train --gpus $n --set vars.model=/tmp/qwen3-4b-random --set cache=/tmp/dist/rr$n-cache \
      --run-dir /tmp/dist/rr$n-run --set train.max_steps=${TSTEPS:-30} --set train.logging_steps=10 > "$out/rude-raft-$n.log" 2>&1
    rc=$?
    python3 - "$n" "$rc" "$((SECONDS-start))" "$(artifact rr$n 2>/dev/null)" <<'PY' | tee -a "$results"
import json, sys
n, rc, wall, art = sys.argv[1:5]
r = dict(check="qwen3-4b-shape qlora throughput", gpus=int(n), exit_code=int(rc), wall_s=int(wall))
try:
    s = json.load(open(f"{art}/train_summary.json"))
    r.update(runtime_seconds=s["runtime_seconds"], tokens_seen=s["tokens_seen"], steps=s["global_steps"],
             effective_batch_size=s.get("effective_batch_size"), tokens_per_second=s["tokens_seen"] / s["runtime_seconds"])
except Exception as e:
    r["error"] = str(e)
print(json.dumps(r))
PY
  done
  python3 - "$results" <<'PY' | tee -a "$results"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"qwen3-4b-shape qlora throughput"' in l]
base = next((r for r in rows if r["gpus"] == 1 and "tokens_per_second" in r), None)
if base:
    print(json.dumps(dict(check="scaling", **{f"speedup_{r['gpus']}gpu": r["tokens_per_second"] / base["tokens_per_second"]
                                               for r in rows if "tokens_per_second" in r})))
PY
elif [[ " $parts " == *" many "* ]]; then
  echo '{"check": "multi-gpu", "skipped": "only one GPU: the N-GPU equivalence and scaling need nvidia-h200-x2 or larger"}' | tee -a "$results"
fi
