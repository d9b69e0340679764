#!/usr/bin/env bash
# Issue 9, one device call: the transformers + peft baseline and our tool's training loop on the Qwen3-4B shape,
# same GPU, same batch (2 x 1000 tokens), random weights initialised on the GPU. Each configuration runs in its own
# process while nvidia-smi samples the GPU's used memory every 100 ms, so both sides' peak is measured the same way
# (the baseline also reports torch's own max_memory_allocated).
# CONFIGS picks the rows; ours_qlora_ckptK recomputes only the first K of the 36 layers; *_unfused rows switch our
# CUDA kernels off (RAFT_FUSED_KERNELS=0) to show what they bring.
# here:   ../shared/gpu/pack.sh bench/Training/RaftPipeline.Bench.Training.csproj
# device: run(command="bash bench/gpu/run-training.sh", carry=[".gpu"])  → $OUT/training.jsonl, $OUT/training.log
set -uo pipefail
out=${OUT:-/tmp/out}; mkdir -p "$out"
results="$out/training.jsonl"; log="$out/training.log"
steps=${STEPS:-8}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee -a "$log"

source "$(dirname "$0")/measure.sh"

bench="bash .gpu/run.sh RaftPipeline.Bench.Training.dll --device cuda --shape 4b --steps $steps"
for cfg in ${CONFIGS:-baseline_sdpa_ckpt ours_lora_ckpt ours_qlora_ckpt ours_lora_nockpt baseline_sdpa_nockpt}; do
  case $cfg in
    baseline_sdpa_ckpt)   measure $cfg python3 bench/gpu/baseline_hf.py /dev/null --steps $steps --configs sdpa_ckpt ;;
    baseline_sdpa_nockpt) measure $cfg python3 bench/gpu/baseline_hf.py /dev/null --steps $steps --configs sdpa_nockpt ;;
    ours_lora_ckpt)       measure $cfg $bench --mode lora --ckpt on --optim adamw ;;
    ours_lora_nockpt)     measure $cfg $bench --mode lora --ckpt off --optim adamw ;;
    ours_qlora_ckpt)      measure $cfg $bench --mode qlora --ckpt on --optim adamw8bit ;;
    ours_lora_nockpt_unfused) measure $cfg env RAFT_FUSED_KERNELS=0 $bench --mode lora --ckpt off --optim adamw ;;
    ours_qlora_ckpt_unfused)  measure $cfg env RAFT_FUSED_KERNELS=0 $bench --mode qlora --ckpt on --optim adamw8bit ;;
    ours_qlora_ckpt_chunk256) measure $cfg $bench --mode qlora --ckpt on --optim adamw8bit --loss-chunk 256 ;;
    ours_qlora_ckpt_lean) measure $cfg env PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True $bench --mode qlora --ckpt on --optim adamw8bit --loss-chunk 256 ;;
    ours_qlora_ckpt_expandable) measure $cfg env PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True $bench --mode qlora --ckpt on --optim adamw8bit ;;
    ours_qlora_ckpt*)     measure $cfg $bench --mode qlora --ckpt "${cfg#ours_qlora_ckpt}" --optim adamw8bit ;;
    phases_lora_nockpt)   measure $cfg $bench --mode lora --ckpt off --optim adamw --phases on ;;
    phases_qlora_ckpt)    measure $cfg $bench --mode qlora --ckpt on --optim adamw8bit --phases on ;;
    ours_lora_nockpt_gen0)  measure $cfg env DOTNET_GCgen0size=0x10000000 $bench --mode lora --ckpt off --optim adamw ;;
    ours_lora_nockpt_server) measure $cfg env DOTNET_gcServer=1 $bench --mode lora --ckpt off --optim adamw ;;
    ours_tiny)            measure $cfg bash .gpu/run.sh RaftPipeline.Bench.Training.dll --device cuda --shape tiny --mode qlora --steps 4 --seq 256 ;;
  esac
done
