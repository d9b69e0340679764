"""Companion check of generate.py: transformers and peft load what our tool wrote for each family.

Usage (repository root, GPU machine; CPU fp32, eager attention):
    python tests/RaftPipeline.Modeling.Tests/Fixtures/families/check_merged.py FIXTURES OUTDIR [CASE ...]
FIXTURES/<case>/ holds generate.py's outputs plus what RaftPipeline wrote (FamilyRoundTripTests, with
RAFT_WRITE_FAMILY_FIXTURES=1):
  ours_adapter/  our PEFT adapter for <case>/model       -> PeftModel.from_pretrained(base, ours_adapter)
  ours_merged/   the base with that adapter merged by us  -> AutoModelForCausalLM.from_pretrained(ours_merged)
Writes OUTDIR/<case>/ours_check.safetensors with, per input case c of expected.safetensors:
  c/adapter_logits   [B, T, V] fp32  peft's logits with our adapter
  c/merged_logits    [B, T, V] fp32  transformers' logits of our merged folder
  c/merged_greedy    [B, T + new]    transformers' greedy generation from our merged folder
  c/merged_greedy_nocache           the same with use_cache=False (longrope only)
The C# tests compare these with what our tool computes from the same files.
"""
import json
import os
import sys

import torch
import transformers
import peft
from peft import PeftModel
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM

MAX_NEW = 20
PAD, EOS = 0, 255


def main():
    root, outroot = sys.argv[1], sys.argv[2]
    only = set(sys.argv[3:])  # optional case names: check just these
    done = []
    for case in sorted(os.listdir(root)):
        d = os.path.join(root, case)
        if not os.path.isdir(os.path.join(d, "ours_merged")) or (only and case not in only):
            continue
        exp = load_file(os.path.join(d, "expected.safetensors"))
        inputs = sorted({k.split("/")[0] for k in exp if k.endswith("/input_ids") and not k.startswith("train/")})
        merged = AutoModelForCausalLM.from_pretrained(os.path.join(d, "ours_merged"), dtype=torch.float32,
                                                      attn_implementation="eager").eval()
        base = AutoModelForCausalLM.from_pretrained(os.path.join(d, "model"), dtype=torch.float32, attn_implementation="eager")
        with_adapter = PeftModel.from_pretrained(base, os.path.join(d, "ours_adapter")).eval()
        out = {}
        for c in inputs:
            ids, mask, pos = exp[f"{c}/input_ids"], exp[f"{c}/attention_mask"], exp[f"{c}/position_ids"]
            with torch.no_grad():
                out[f"{c}/adapter_logits"] = with_adapter(input_ids=ids, attention_mask=mask, position_ids=pos).logits.float().contiguous()
                out[f"{c}/merged_logits"] = merged(input_ids=ids, attention_mask=mask, position_ids=pos).logits.float().contiguous()
                out[f"{c}/merged_greedy"] = merged.generate(input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=MAX_NEW,
                                                            min_new_tokens=0, pad_token_id=PAD, eos_token_id=EOS).clone()
                if getattr(merged.config, "rope_parameters", None) and merged.config.rope_parameters.get("rope_type") == "longrope":
                    # transformers' cached generate() departs from its uncached run where a row crosses the original
                    # context; write the uncached run too, which our cached generation follows.
                    out[f"{c}/merged_greedy_nocache"] = merged.generate(input_ids=ids, attention_mask=mask, do_sample=False,
                                                                        max_new_tokens=MAX_NEW, min_new_tokens=0, pad_token_id=PAD,
                                                                        eos_token_id=EOS, use_cache=False).clone()
        os.makedirs(os.path.join(outroot, case), exist_ok=True)
        save_file(out, os.path.join(outroot, case, "ours_check.safetensors"),
                  metadata={"transformers": transformers.__version__, "peft": peft.__version__, "torch": torch.__version__})
        done.append(case)
        print(case, "ok:", type(merged).__name__, "and", type(with_adapter.base_model.model).__name__)
    print("checked", json.dumps(done))
    sys.exit(0 if done else 1)


if __name__ == "__main__":
    main()
