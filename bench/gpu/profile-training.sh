#!/usr/bin/env bash
# Issue 9: where the GPU time of our training step goes. Runs the training bench (Qwen3-4B shape, batch 2 x 1000)
# under Nsight Systems and keeps only the kernel / CUDA API summaries as CSV (the .nsys-rep files are large).
# here:   bash bench/gpu/pack-all.sh bench/Training/RaftPipeline.Bench.Training.csproj
# device: run(command="bash bench/gpu/profile-training.sh", carry=[".gpu"])  → $OUT/profile-<config>_*.csv
set -uo pipefail
out=${OUT:-/tmp/out}; mkdir -p "$out"
work=$(mktemp -d)
nsys=$(command -v nsys || ls /usr/local/cuda*/bin/nsys /opt/nvidia/nsight-systems/*/bin/nsys 2>/dev/null | head -1)
echo "nsys: ${nsys:-none}"
bench="bash .gpu/run.sh RaftPipeline.Bench.Training.dll --device cuda --shape 4b --steps ${STEPS:-3} --warmup 1"
for cfg in ${CONFIGS:-lora_nockpt qlora_ckpt}; do
  case $cfg in
    lora_nockpt) args="--mode lora --ckpt off --optim adamw" ;;
    lora_ckpt)   args="--mode lora --ckpt on --optim adamw" ;;
    qlora_ckpt)  args="--mode qlora --ckpt on --optim adamw8bit" ;;
  esac
  "$nsys" profile --trace=cuda --sample=none --cpuctxsw=none -o "$work/$cfg" $bench $args > "$out/profile-$cfg.log" 2>&1
  "$nsys" stats --report cuda_gpu_kern_sum,cuda_api_sum,cuda_gpu_mem_time_sum --format csv \
    --output "$out/profile-$cfg" "$work/$cfg.nsys-rep" >> "$out/profile-$cfg.log" 2>&1
  tail -3 "$out/profile-$cfg.log"
done
rm -rf "$work"
