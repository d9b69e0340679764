#!/usr/bin/env bash
# Issue 17, one device call: training throughput and peak memory of two more families at their real shapes, ours next
# to transformers + peft, random weights, the recipe's settings (LoRA r=4 / alpha 8 on the seven projections, batch
# 2 x 1000 tokens, bf16 compute, gradient checkpointing, clipping 1.0; ours completion-only rows):
#   - Llama-3.1-8B shape, NF4 QLoRA (double quant, 8-bit AdamW on our side). The baseline is bitsandbytes NF4 QLoRA if
#     bitsandbytes is installed there; if not (baseline_hf.py exits 3 and says so in the jsonl) or that run fails, the transformers + peft
#     baseline that can run is bf16 LoRA at the same shape, and ours bf16 LoRA is measured beside it too.
#   - Gemma-3-4B shape (gemma3_text), bf16 LoRA.
# Each configuration is its own process, timed out so the whole call stays within LIMIT_S (default 360 s); a
# configuration that would start with less than 40 s left is skipped and logged. Shapes: bench/Training/BenchShapes.cs.
# here:   bash bench/gpu/pack-all.sh bench/Training/RaftPipeline.Bench.Training.csproj
# device: run(command="bash bench/gpu/run-families.sh", carry=[".gpu"])  → $OUT/families.jsonl, $OUT/families.log
#   with the NF4 baseline: run(command="source bench/gpu/build-bitsandbytes.sh && FAMILIES=llama3 bash bench/gpu/run-families.sh",
#   carry=[".gpu", ".bnb"]) (see build-bitsandbytes.sh for .bnb)
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/out}; mkdir -p "$out"
results="$out/families.jsonl"; log="$out/families.log"
steps=${STEPS:-10}
limit=${LIMIT_S:-360}
source bench/gpu/measure.sh

{ date -u; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  python3 -c 'import torch, transformers, peft; print("torch", torch.__version__, "transformers", transformers.__version__, "peft", peft.__version__)'
  python3 -c 'import bitsandbytes as b; print("bitsandbytes", b.__version__)' 2>/dev/null || echo "bitsandbytes: not installed"
} 2>&1 | tee -a "$log"

# run NAME COMMAND...: measure it under a timeout of what is left of the call (at most 150 s).
run() {
  local name=$1; shift
  local left=$((limit - SECONDS))
  if [ $left -lt 40 ]; then echo "skipped $name: ${left}s left of ${limit}s" | tee -a "$log"; return 99; fi
  [ $left -gt 150 ] && left=150
  echo "== $name (timeout ${left}s, at ${SECONDS}s)" >> "$log"
  measure "$name" timeout "$left" "$@"
  return "$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readlines()[-1])["exit_code"])' "$results")"
}

ours="bash .gpu/run.sh RaftPipeline.Bench.Training.dll --device cuda --steps $steps"
hf="python3 bench/gpu/baseline_hf.py /dev/null --steps $((steps + 2)) --configs sdpa_ckpt"

# FAMILIES picks the shapes (default both): "llama3" alone is the NF4 QLoRA pair once bitsandbytes is built there.
families=${FAMILIES:-gemma3 llama3}
want() { [[ " $families " == *" $1 "* ]]; }
bnb=1; bf16=0
if want gemma3; then
  run baseline_gemma3_4b_lora_ckpt $hf --shape gemma3-4b --mode lora
  run ours_gemma3_4b_lora_ckpt $ours --shape gemma3-4b --mode lora --ckpt on --optim adamw
fi
if want llama3; then
  run baseline_llama3_8b_qlora_ckpt $hf --shape llama3-8b --mode qlora; bnb=$?
  # The bf16 LoRA pair: the baseline that can run without bitsandbytes, or asked for beside the NF4 pair (LLAMA_BF16=1).
  [ $bnb -ne 0 ] || [ "${LLAMA_BF16:-0}" = 1 ] && bf16=1 || bf16=0
  run ours_llama3_8b_qlora_ckpt $ours --shape llama3-8b --mode qlora --ckpt on --optim adamw8bit
  [ $bf16 -eq 1 ] && run baseline_llama3_8b_lora_ckpt $hf --shape llama3-8b --mode lora
fi
want gemma3 && run ours_gemma3_4b_lora_nockpt $ours --shape gemma3-4b --mode lora --ckpt off --optim adamw
want llama3 && [ $bf16 -eq 1 ] && run ours_llama3_8b_lora_ckpt $ours --shape llama3-8b --mode lora --ckpt on --optim adamw
# Time left: the headline pairs again, to show how much a second run moves (each skipped or cut at the limit).
if want llama3; then
  if [ $bnb -eq 0 ]; then run baseline_llama3_8b_qlora_ckpt_again $hf --shape llama3-8b --mode qlora
  else run baseline_llama3_8b_lora_ckpt_again $hf --shape llama3-8b --mode lora; fi
  run ours_llama3_8b_qlora_ckpt_again $ours --shape llama3-8b --mode qlora --ckpt on --optim adamw8bit
fi
if want gemma3; then
  run baseline_gemma3_4b_lora_ckpt_again $hf --shape gemma3-4b --mode lora
  run ours_gemma3_4b_lora_ckpt_again $ours --shape gemma3-4b --mode lora --ckpt on --optim adamw
fi
echo "done at ${SECONDS}s" | tee -a "$log"
exit 0
