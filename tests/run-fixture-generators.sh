#!/usr/bin/env bash
# Runs reference-fixture generators on the GPU machine (which has torch, transformers, peft, tokenizers)
# and packs what they write into OUTDIR/fixtures.tar.gz.partNN (the device tool returns at most 8 files of
# 16 MiB). Each generator is tests/<Project>.Tests/Fixtures/<topic>/generate.py OUTDIR and is the record of
# how its fixture was made; its outputs belong in its own folder.
#   there: bash tests/run-fixture-generators.sh "$OUT" [generate.py ...]
#   here:  cat fixtures.tar.gz.part* | tar xz -C <repo root>
set -uo pipefail
out=${1:?usage: run-fixture-generators.sh OUTDIR [generator...]}; shift
gens=("$@"); [ ${#gens[@]} -gt 0 ] || gens=(tests/*/Fixtures/*/generate.py)
work=$(mktemp -d)
python3 -c 'import torch, transformers, sys; print("python", sys.version.split()[0], "torch", torch.__version__, "transformers", transformers.__version__)'
python3 -c 'import peft, tokenizers; print("peft", peft.__version__, "tokenizers", tokenizers.__version__)' || true
for g in "${gens[@]}"; do
  d=$(dirname "$g"); mkdir -p "$work/$d" "$work/logs/$d"
  log="$work/logs/$d/generate.log"   # beside, not inside, the generator's output folder
  echo "== $g"
  start=$(date +%s)
  if PYTHONUNBUFFERED=1 timeout 400 python3 "$g" "$work/$d" > "$log" 2>&1; then
    echo "ok ($(( $(date +%s) - start )) s)"; tail -5 "$log"
  else
    echo "FAILED ($(( $(date +%s) - start )) s)"; tail -40 "$log"
  fi
done
(cd "$work" && tar czf - .) | split -b 15m -d - "$out/fixtures.tar.gz.part"
ls -la "$out"
