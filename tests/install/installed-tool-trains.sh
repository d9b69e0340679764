#!/usr/bin/env bash
# Proves the libtorch fix-up on an INSTALLED package (issue 20): packs RaftPipeline.Cli, installs it as a tool into
# a fresh tool-path, and runs a pipeline whose stages before `train` were already cached (by the repository's own
# build), so train's first torch call is the installed tool's first libtorch load. Passes when train runs and the
# installed libLibTorchSharp.so ends up patched. Too slow for CI (a ~320 MB package packed and installed, about two
# minutes); the same scenario runs in CI on a copy of the built tool
# (tests/RaftPipeline.Cli.Tests/Startup/NativeSetupTests.cs).
#   usage: bash tests/install/installed-tool-trains.sh   (from anywhere in the checkout; leaves nothing tracked)
set -euo pipefail
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
cd "$root"
work="$root/artifacts/install-test"          # ignored by git (artifacts/*)
rm -rf "$work"; mkdir -p "$work"
# Never the shared ~/.nuget/packages: other checkouts restore RaftPipeline.Cli 0.1.0 from there.
export NUGET_PACKAGES="$work/nuget-packages" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
feed="$work/feed"; tools="$work/tools"; pipe="$work/pipeline"

echo "== pack"
dotnet pack src/RaftPipeline.Cli -c Release -o "$feed" -p:PackageOutputPath="$feed" >/dev/null
echo "== install into $tools"
dotnet tool install RaftPipeline.Cli --tool-path "$tools" --add-source "$feed" --version 0.1.0 >/dev/null
lib=$(find "$tools/.store" -name libLibTorchSharp.so -path '*runtimes/linux-x64/native*' | head -1)
[ -n "$lib" ] || { echo "FAIL: no libLibTorchSharp.so in the installed tool"; exit 1; }
weak() { readelf -V "$lib" | grep -A0 'GLIBCXX_3.4.32' | grep -q 'Flags: WEAK'; }
if weak; then echo "FAIL: the installed library is already patched; the package must ship it as TorchSharp does"; exit 1; fi

mkdir -p "$pipe/data"
printf '%s\n' 'context,question,cot' '"하늘은 파랗다.",하늘 색은?,"그것도 몰라? 파랑."' '"바다는 짜다.",바다 맛은?,"그것도 몰라? 짜."' > "$pipe/data/rows.csv"
cat > "$pipe/pipeline.yaml" <<'YAML'
name: installed
seed: 1
device: cpu
stages:
  base: { kind: model, params: { preset: tiny } }
  data:
    kind: load
    inputs: { files: [data/rows.csv] }
    params: { encoding: utf-8, columns: { context: context, question: question, answer: cot } }
  formatted: { kind: format, inputs: { data: data, model: base }, params: { system_prompt: be rude } }
  adapter: { kind: lora, inputs: { model: base }, params: { r: 2, lora_alpha: 4 } }
  train:
    kind: train
    inputs: { model: base, adapter: adapter, data: formatted }
    params: { max_steps: 2, batch_size: 2, max_seq_length: 64, logging_steps: 1 }
YAML
echo "== cache the stages before train with the repository's build"
dotnet build src/RaftPipeline.Cli -c Release >/dev/null
dotnet src/RaftPipeline.Cli/bin/Release/net10.0/raft.dll run "$pipe/pipeline.yaml" adapter formatted | tail -1
echo "== the installed tool runs the pipeline: train is its first libtorch load"
RAFT_LIBTORCH=cpu "$tools/dotnet-raft" run "$pipe/pipeline.yaml" | tee "$work/run.log" | tail -3
grep -q '\[5/5\] train: ran' "$work/run.log" || { echo "FAIL: train did not run"; exit 1; }
grep -q 'succeeded: 1 ran, 4 reused' "$work/run.log" || { echo "FAIL: the stages before train were not reused"; exit 1; }
weak || { echo "FAIL: the installed libLibTorchSharp.so was not patched"; exit 1; }
echo "PASS: the installed tool trained with every stage before train cached; $lib is patched"
