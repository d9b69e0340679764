"""Reference fixture for LoRA adapter interop with peft (run on the GPU machine; CPU is enough).

Usage: python generate.py OUTDIR      (normally OUTDIR = this script's own folder)

Round 1 writes (7 files):
  base/config.json, base/generation_config.json, base/model.safetensors
      a tiny random Qwen3 (vocab 512, 2 layers, seeded), saved in bf16 by save_pretrained
  adapter/adapter_config.json, adapter/adapter_model.safetensors
      a peft LoRA adapter on that base: r=4, lora_alpha=8, the seven projections,
      init_lora_weights=False so lora_B is random (non-zero) and the adapter changes the logits
  peft_merged/model.safetensors
      the state dict after merge_and_unload of that adapter into the bf16 base (what users save)
  logits.safetensors (F32 logits [len, vocab] and I64 ids per sequence k)
      ids.k            the input ids
      base.k           base model (bf16 weights, computed in fp32)
      peft_adapter.k   base + peft adapter (fp32)
      peft_merged.k    the merged bf16 weights computed in fp32
Round 2 (when the RaftPipeline tests have committed them beside this script):
  ours/            an adapter our tool wrote for base/   -> logits key ours_adapter.k (PeftModel.from_pretrained)
  ours_merged/     a model folder our merge wrote       -> logits key ours_merged.k  (AutoModelForCausalLM)
Everything runs on CPU in fp32 with eager attention so the numbers are reproducible.
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file, load_file
from transformers import AutoModelForCausalLM, Qwen3Config, Qwen3ForCausalLM
import transformers
import peft
from peft import LoraConfig, PeftModel, get_peft_model

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
SEQUENCES = [
    [1, 17, 300, 42, 511, 7],
    [5, 99, 250, 250, 3, 128, 64, 400, 12],
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 500, 501, 502, 503],
]


def load_fp32(path):
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    return model


@torch.no_grad()
def logits_of(model, name, out):
    for k, ids in enumerate(SEQUENCES):
        t = torch.tensor([ids], dtype=torch.long)
        out[f"{name}.{k}"] = model(input_ids=t).logits[0].float().contiguous()


def main():
    outdir = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    base_dir = os.path.join(outdir, "base")
    adapter_dir = os.path.join(outdir, "adapter")
    tensors = {}
    for k, ids in enumerate(SEQUENCES):
        tensors[f"ids.{k}"] = torch.tensor(ids, dtype=torch.long)

    # (a) tiny random Qwen3, tied embeddings like Qwen3-4B, head_dim != hidden/heads to catch shape mistakes
    torch.manual_seed(1234)
    config = Qwen3Config(
        vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=24, max_position_embeddings=256,
        rms_norm_eps=1e-6, tie_word_embeddings=True, attention_bias=False,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
        bos_token_id=1, eos_token_id=2, pad_token_id=2,
    )
    model = Qwen3ForCausalLM(config)
    # Norm weights start at 1.0; make them random too so a norm read wrongly shows in the logits.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
    model.to(torch.bfloat16).save_pretrained(base_dir, safe_serialization=True)

    base = load_fp32(base_dir)
    logits_of(base, "base", tensors)

    # (b) peft adapter with random B, saved, and its logits
    torch.manual_seed(4321)
    lora = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.05, target_modules=TARGETS, bias="none",
                      task_type="CAUSAL_LM", init_lora_weights=False)
    peft_model = get_peft_model(base, lora)
    peft_model.eval()
    peft_model.print_trainable_parameters()
    logits_of(peft_model, "peft_adapter", tensors)
    peft_model.save_pretrained(adapter_dir, safe_serialization=True)
    readme = os.path.join(adapter_dir, "README.md")
    if os.path.exists(readme):
        os.remove(readme)

    # merge into the 16-bit base, as the notebook does (base reloaded in bf16, adapter loaded, merged)
    base16 = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.bfloat16, attn_implementation="eager")
    merged = PeftModel.from_pretrained(base16, adapter_dir).merge_and_unload()
    state = {k: v.contiguous() for k, v in merged.state_dict().items() if k != "lm_head.weight"}
    os.makedirs(os.path.join(outdir, "peft_merged"), exist_ok=True)
    save_file(state, os.path.join(outdir, "peft_merged", "model.safetensors"), metadata={"format": "pt"})
    merged = merged.float().eval()
    logits_of(merged, "peft_merged", tensors)

    # (c) round 2: what our tool wrote
    ours = os.path.join(here, "ours")
    if os.path.isdir(ours):
        with_ours = PeftModel.from_pretrained(load_fp32(base_dir), ours)
        with_ours.eval()
        logits_of(with_ours, "ours_adapter", tensors)
    ours_merged = os.path.join(here, "ours_merged")
    if os.path.isdir(ours_merged):
        logits_of(load_fp32(ours_merged), "ours_merged", tensors)

    meta = {"transformers": transformers.__version__, "peft": peft.__version__, "torch": torch.__version__,
            "sequences": json.dumps(SEQUENCES)}
    save_file(tensors, os.path.join(outdir, "logits.safetensors"), metadata=meta)
    print("wrote", sorted(tensors.keys()))


if __name__ == "__main__":
    main()
