#!/usr/bin/env bash
# On the GPU machine: (1) `raft doctor` with no LD_LIBRARY_PATH, so the tool must find PyTorch's CUDA libtorch by
# itself; (2) train resume on CUDA: the quickstart's train stage run once uninterrupted, and once stopped by SIGTERM
# after its first checkpoint and rerun; the two adapters and per-step losses are compared.
#   here:   ../shared/gpu/pack.sh src/RaftPipeline.Cli/RaftPipeline.Cli.csproj
#   device: run(command="bash bench/gpu/run-resume-doctor.sh", carry=[".gpu"])  → $OUT/resume-doctor.log
set -uo pipefail
out=${OUT:-/tmp}
exec > >(tee "$out/resume-doctor.log") 2>&1
[ -x /tmp/dotnet/dotnet ] || { mkdir -p /tmp/dotnet && tar xJf .gpu/dotnet.tar.xz -C /tmp/dotnet; }
export DOTNET_ROOT=/tmp/dotnet DOTNET_CLI_TELEMETRY_OPTOUT=1
unset LD_LIBRARY_PATH
raft() { /tmp/dotnet/dotnet .gpu/app/raft.dll "$@"; }

echo "== raft doctor (no LD_LIBRARY_PATH: the tool discovers libtorch)"
raft doctor; echo "doctor exit $?"

spec=pipelines/quickstart.yaml
common=(--device cuda --set train.epochs=1 --set train.save_steps=10 --set train.logging_steps=1)
echo "== uninterrupted"
start=$(date +%s)
raft run "$spec" train "${common[@]}" --set cache=/tmp/cacheA --run-dir /tmp/runA; echo "exit $? ($(( $(date +%s) - start )) s)"

echo "== stopped by SIGTERM once a checkpoint exists, then rerun"
# The process itself in the background (not the raft() function, whose subshell would take the signal instead).
/tmp/dotnet/dotnet .gpu/app/raft.dll run "$spec" train "${common[@]}" --set cache=/tmp/cacheB --run-dir /tmp/runB1 & pid=$!
for _ in $(seq 1 1500); do compgen -G "/tmp/cacheB/checkpoints/*/checkpoint-*[0-9]" >/dev/null && break; sleep 0.2; done
sleep 0.5; kill -TERM "$pid"; wait "$pid"; echo "exit after SIGTERM $? (143 expected)"
ls /tmp/cacheB/checkpoints/*/
raft run "$spec" train "${common[@]}" --set cache=/tmp/cacheB --run-dir /tmp/runB2; echo "rerun exit $?"
grep -rh "resum" /tmp/runB2/ 2>/dev/null | head -3

python3 - <<'EOF'
import glob, json, os, torch
from safetensors.torch import load_file
def artifact(run): return os.path.realpath(f"{run}/stages/train/artifact")
a, b = artifact("/tmp/runA"), artifact("/tmp/runB2")
A = load_file(glob.glob(f"{a}/**/adapter_model.safetensors", recursive=True)[0])
B = load_file(glob.glob(f"{b}/**/adapter_model.safetensors", recursive=True)[0])
diff = max((A[k].float() - B[k].float()).abs().max().item() for k in A)
scale = max(A[k].float().abs().max().item() for k in A)
print(f"adapter: {len(A)} tensors, bitwise identical: {all(torch.equal(A[k], B[k]) for k in A)}, "
      f"max abs diff {diff:.3e} (largest entry {scale:.3e})")
def losses(d):
    rows = []
    for f in glob.glob(f"{d}/**/metrics.jsonl", recursive=True):
        rows += [json.loads(l) for l in open(f) if l.strip()]
    return {r["step"]: r["loss"] for r in rows if "loss" in r and "step" in r and "eval" not in json.dumps(r)}
la, lb = losses(a), losses(b)
common = sorted(set(la) & set(lb))
worst = max((abs(la[s] - lb[s]) / max(abs(la[s]), 1e-12) for s in common), default=float("nan"))
print(f"losses: {len(la)} vs {len(lb)} steps, {len(common)} compared, identical: {all(la[s] == lb[s] for s in common)}, "
      f"largest relative difference {worst:.3e}")
EOF
