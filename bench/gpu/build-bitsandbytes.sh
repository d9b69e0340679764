#!/usr/bin/env bash
# The NF4 QLoRA baseline (issue 17's Llama-3.1-8B row) needs bitsandbytes, which the GPU image lacks and which cannot
# be carried as a wheel from here (PyPI is unreachable from the development machine). The GPU image has nvcc, CMake and
# ninja, so bitsandbytes is built there from its source, carried in an ignored folder (never committed):
#   here:   mkdir -p .bnb && git -C <bitsandbytes checkout> archive HEAD CMakeLists.txt csrc bitsandbytes | tar x -C .bnb
#           (the `fetch` tool's mirror: /work/.mirror/bitsandbytes-foundation+bitsandbytes/repo; about 0.9 MB)
#   device: run(command="source bench/gpu/build-bitsandbytes.sh && bash bench/gpu/run-families.sh", carry=[".gpu", ".bnb"])
# Builds the CUDA library for the H100/H200 only (sm_90) into .bnb/bitsandbytes/, puts .bnb on PYTHONPATH (source this
# script so the export reaches the caller) and checks one NF4 matmul against the dequantized weight.
set -uo pipefail
src=${BNB_SRC:-$PWD/.bnb}
[ -f "$src/CMakeLists.txt" ] || { echo "bitsandbytes source not found at $src (see this script's header)"; return 2 2>/dev/null || exit 2; }
start=$SECONDS
generator=(); command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$src" -B /tmp/bnb-build "${generator[@]}" -DCOMPUTE_BACKEND=cuda -DCOMPUTE_CAPABILITY=90 -DCMAKE_BUILD_TYPE=Release \
  > /tmp/bnb-configure.log 2>&1 || { tail -20 /tmp/bnb-configure.log; return 1 2>/dev/null || exit 1; }
cmake --build /tmp/bnb-build -j "$(nproc)" > /tmp/bnb-build.log 2>&1 || { tail -30 /tmp/bnb-build.log; return 1 2>/dev/null || exit 1; }
# transformers and peft ask importlib.metadata for the version of an optional package, which a source folder on
# PYTHONPATH does not answer: a minimal dist-info beside it does (name and version only; nothing is installed).
version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$src/bitsandbytes/__init__.py")
mkdir -p "$src/bitsandbytes-$version.dist-info"
printf 'Metadata-Version: 2.1\nName: bitsandbytes\nVersion: %s\n' "$version" > "$src/bitsandbytes-$version.dist-info/METADATA"
export PYTHONPATH="$src${PYTHONPATH:+:$PYTHONPATH}"
echo "bitsandbytes built in $((SECONDS - start)) s: $(ls "$src"/bitsandbytes/libbitsandbytes_cuda*.so 2>/dev/null)"
python3 - <<'EOF'
import importlib.metadata, torch, bitsandbytes as bnb
import bitsandbytes.functional as F
assert importlib.metadata.version("bitsandbytes") == bnb.__version__
torch.manual_seed(0)
w = torch.randn(512, 256, dtype=torch.bfloat16, device="cuda") * 0.02
x = torch.randn(4, 256, dtype=torch.bfloat16, device="cuda")
q, state = F.quantize_4bit(w, quant_type="nf4", compress_statistics=True)
dq = F.dequantize_4bit(q, state)
y = bnb.matmul_4bit(x, q.t(), quant_state=state)
ref = x @ dq.t()
print("bitsandbytes", bnb.__version__, "NF4 matmul vs dequantized:", (y - ref).abs().max().item(), "weight error",
      ((dq - w).norm() / w.norm()).item())
EOF
