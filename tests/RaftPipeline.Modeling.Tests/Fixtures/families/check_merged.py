"""Companion check of generate.py: transformers (and peft) load what our tool wrote for each family.

Usage (repository root, GPU machine, CPU is enough):
    python tests/RaftPipeline.Modeling.Tests/Fixtures/families/check_merged.py DIR
DIR/<case>/ holds expected.safetensors (from generate.py) and what RaftPipeline wrote there:
  ours_merged/   the base with our trained adapter merged, a Hugging Face folder (loaded by AutoModelForCausalLM)
  ours_adapter/  our PEFT adapter for <case>/model (loaded by PeftModel.from_pretrained), when present
  ours_logits.safetensors   <c>/merged_logits computed by our tool from ours_merged, to compare with transformers'
Prints the largest difference per case and exits 1 if any is over TOL.
"""
import json
import os
import sys

import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

TOL = 2e-3


def main():
    root = sys.argv[1]
    worst = {}
    for case in sorted(os.listdir(root)):
        d = os.path.join(root, case)
        merged = os.path.join(d, "ours_merged")
        if not os.path.isdir(merged):
            continue
        ours = load_file(os.path.join(d, "ours_logits.safetensors"))
        exp = load_file(os.path.join(d, "expected.safetensors"))
        model = AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32, attn_implementation="eager").eval()
        diffs = {}
        for key in sorted(k for k in ours if k.endswith("/merged_logits")):
            c = key.split("/")[0]
            with torch.no_grad():
                logits = model(input_ids=exp[f"{c}/input_ids"], attention_mask=exp[f"{c}/attention_mask"],
                               position_ids=exp[f"{c}/position_ids"]).logits.float()
            mask = exp[f"{c}/attention_mask"].bool()
            diffs[c] = float((logits - ours[key])[mask].abs().max())
        adapter = os.path.join(d, "ours_adapter")
        if os.path.isdir(adapter):
            from peft import PeftModel
            base = AutoModelForCausalLM.from_pretrained(os.path.join(d, "model"), dtype=torch.float32, attn_implementation="eager")
            pm = PeftModel.from_pretrained(base, adapter).eval()
            for key in sorted(k for k in ours if k.endswith("/adapter_logits")):
                c = key.split("/")[0]
                with torch.no_grad():
                    logits = pm(input_ids=exp[f"{c}/input_ids"], attention_mask=exp[f"{c}/attention_mask"],
                                position_ids=exp[f"{c}/position_ids"]).logits.float()
                mask = exp[f"{c}/attention_mask"].bool()
                diffs[c + "/adapter"] = float((logits - ours[key])[mask].abs().max())
        worst[case] = diffs
        print(case, json.dumps(diffs))
    bad = {c: d for c, d in worst.items() if any(v > TOL for v in d.values())}
    print("checked", len(worst), "cases; over tolerance:", bad or "none")
    sys.exit(1 if bad or not worst else 0)


if __name__ == "__main__":
    main()
