"""Reference fixtures for the model families (RaftPipeline.Modeling.Tests/Families/*), made with transformers + peft.

Usage (from the repository root, on the GPU machine; everything runs on its CPU in fp32, eager attention):
    python tests/RaftPipeline.Modeling.Tests/Fixtures/families/generate.py OUTDIR

For each case below (a tiny random model of one family, seeded) it writes OUTDIR/<case>/:
  model/          save_pretrained in bfloat16, sharded (config.json, model.safetensors.index.json, shards)
  adapter/        a peft LoRA adapter (r=4, lora_alpha=8, random non-zero A and B) on the family's projections as
                  peft names them (fused qkv_proj / gate_up_proj for phi3; expert projections for qwen3_moe)
  trained/        that adapter after TRAIN_STEPS AdamW steps of transformers + peft on the batch in expected
  expected.safetensors
      <c>/input_ids, <c>/attention_mask, <c>/position_ids   [B, T] int64 per case c (left padding when B > 1)
      <c>/logits [B, T, V] fp32                             base model (the bf16 weights, computed in fp32)
      <c>/greedy [B, T + new] int64                         generate(do_sample=False, max_new_tokens=MAX_NEW)
      <c>/adapter_logits, <c>/adapter_greedy                the same through the peft adapter
      <c>/greedy_nocache, <c>/adapter_greedy_nocache        longrope cases only: generate(use_cache=False), every step
                                                            a full forward (the factors follow the whole length)
      train/input_ids, train/labels [2, 24] int64            the training batch (-100 = not supervised)
      train/loss0 [] fp32, train/grad/<peft key> fp32       loss and LoRA gradients before the first step
      train/losses [TRAIN_STEPS] fp32                       transformers' loss (token mean) at each step
  info.json       versions, the config as transformers wrote it, the peft targets, what peft made of them
Norm weights are 1 + 0.2·N(0,1) (so Gemma's (1 + w) and Llama's w differ visibly); all other weights 0.2·N(0,1).
Soft-caps, windows and scaling constants are chosen small enough to change the logits of these tiny models.

Companion check (after our tool merged each adapter): check_merged.py loads those folders with transformers.
"""
import copy
import json
import os
import sys
import traceback

import torch
import transformers
import peft
from peft import LoraConfig, get_peft_model, get_peft_model_state_dict
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM

VOCAB = 256
PAD, BOS, EOS = 0, 1, 255
MAX_NEW = 20
STD = 0.2
TRAIN_STEPS = 3
LR = 1e-2
ATTN = ["q_proj", "k_proj", "v_proj", "o_proj"]
MLP = ["gate_proj", "up_proj", "down_proj"]


def small(**kw):
    base = dict(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, head_dim=16, max_position_embeddings=512, rms_norm_eps=1e-6,
                pad_token_id=PAD, bos_token_id=BOS, eos_token_id=EOS, tie_word_embeddings=False, attention_dropout=0.0)
    base.update(kw)
    return base


def rope(theta, **kw):
    return {"rope_parameters": dict(rope_type=kw.pop("rope_type", "default"), rope_theta=theta, **kw)}


def cases_config():
    from transformers import (Gemma2Config, Gemma3TextConfig, LlamaConfig, MistralConfig, Phi3Config, Qwen3MoeConfig)
    return {
        # Llama 3.x frequency scaling: head_dim 16, θ 10000 puts wavelengths on both sides of the bands below.
        "llama3": (LlamaConfig, small(**rope(10000.0, rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                                               high_freq_factor=4.0, original_max_position_embeddings=256)),
                   ATTN + MLP),
        "llama_linear": (LlamaConfig, small(**rope(10000.0, rope_type="linear", factor=2.0)), ATTN + MLP),
        # dynamic NTK rescales θ once positions pass max_position_embeddings (16 here; prompts reach 40 + 20).
        "llama_dynamic": (LlamaConfig, small(max_position_embeddings=16, **rope(10000.0, rope_type="dynamic", factor=2.0)),
                          ATTN + MLP),
        "llama_yarn": (LlamaConfig, small(**rope(10000.0, rope_type="yarn", factor=4.0, original_max_position_embeddings=32,
                                                 beta_fast=32.0, beta_slow=1.0)), ATTN + MLP),
        "mistral": (MistralConfig, small(sliding_window=6, **rope(10000.0)), ATTN + MLP),
        "phi3": (Phi3Config, small(head_dim=None, partial_rotary_factor=0.5, original_max_position_embeddings=512,
                                   resid_pdrop=0.0, embd_pdrop=0.0, sliding_window=None, **rope(10000.0)),
                 ["qkv_proj", "o_proj", "gate_up_proj", "down_proj"]),
        # Phi-3.5 / Phi-4-mini longrope: original context 16 and max 64 (factor 4, derived as those configs have it, so
        # the cos/sin scale is sqrt(1 + ln 4 / ln 16)); rotary dims int(16 * 0.75) = 12, so 6 factors each, short and
        # long far apart. The prompts (7, 40, 12/5/9 tokens, + 20 new) stay short, start long and cross 16 while
        # generating.
        "phi3_longrope": (Phi3Config, small(hidden_size=64, head_dim=None, partial_rotary_factor=0.75,
                                            max_position_embeddings=64, original_max_position_embeddings=16,
                                            resid_pdrop=0.0, embd_pdrop=0.0, sliding_window=None,
                                            **rope(10000.0, rope_type="longrope", original_max_position_embeddings=16,
                                                   short_factor=[1.0, 1.25, 1.9, 3.1, 4.7, 8.3],
                                                   long_factor=[1.0, 2.6, 6.5, 13.0, 29.0, 61.0])),
                          ["qkv_proj", "o_proj", "gate_up_proj", "down_proj"]),
        "gemma2": (Gemma2Config, small(num_hidden_layers=3, tie_word_embeddings=True, query_pre_attn_scalar=24,
                                       attn_logit_softcapping=1.0, final_logit_softcapping=3.0, sliding_window=6,
                                       hidden_activation="gelu_pytorch_tanh", layer_types=[
                                           "sliding_attention", "full_attention", "sliding_attention"]),
                   ATTN + MLP),
        "gemma3_text": (Gemma3TextConfig, small(num_hidden_layers=3, tie_word_embeddings=True, query_pre_attn_scalar=24,
                                                sliding_window=6, final_logit_softcapping=3.0,
                                                hidden_activation="gelu_pytorch_tanh", layer_types=[
                                                    "sliding_attention", "sliding_attention", "full_attention"]),
                        ATTN + MLP),
        "qwen3_moe": (Qwen3MoeConfig, small(head_dim=8, num_experts=4, num_experts_per_tok=2, moe_intermediate_size=16,
                                            norm_topk_prob=True, decoder_sparse_step=1, mlp_only_layers=[],
                                            **rope(1000000.0)),
                      ATTN + MLP),
    }


def init_weights(model, seed):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = STD * torch.randn(p.shape, generator=gen)
            p.copy_(1.0 + noise if name.endswith("norm.weight") else noise)


def position_ids_from_mask(mask):
    pos = mask.long().cumsum(-1) - 1
    pos.masked_fill_(mask == 0, 1)
    return pos


def left_pad(seqs):
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), PAD, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, width - len(s):] = torch.tensor(s, dtype=torch.long)
        mask[i, width - len(s):] = 1
    return ids, mask


def make_inputs():
    gen = torch.Generator().manual_seed(99)
    r = lambda n: torch.randint(3, VOCAB - 1, (n,), generator=gen).tolist()
    return {"short": [r(7)], "long": [r(40)], "batch": [r(12), r(5), r(9)]}


def record(model, prefix, inputs, out, fresh, nocache=False):
    """Logits and greedy ids per case; fresh() gives a model copy per case (dynamic RoPE keeps state across calls)."""
    for case, seqs in inputs.items():
        if nocache:
            m = fresh()
            m.eval()
            ids, mask = left_pad(seqs)
            with torch.no_grad():
                gen = m.generate(input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=MAX_NEW,
                                 min_new_tokens=0, pad_token_id=PAD, eos_token_id=EOS, use_cache=False)
            out[f"{case}/{prefix}greedy_nocache"] = gen.clone()
        m = fresh()
        m.eval()
        ids, mask = left_pad(seqs)
        pos = position_ids_from_mask(mask)
        with torch.no_grad():
            logits = m(input_ids=ids, attention_mask=mask, position_ids=pos).logits.float()
            gen = m.generate(input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=MAX_NEW,
                             min_new_tokens=0, pad_token_id=PAD, eos_token_id=EOS)
        out[f"{case}/input_ids"] = ids
        out[f"{case}/attention_mask"] = mask
        out[f"{case}/position_ids"] = pos
        out[f"{case}/{prefix}logits"] = logits.contiguous()
        out[f"{case}/{prefix}greedy"] = gen.clone()


def lora_targets(model, targets):
    """peft's view of the family's projections: modules by name, expert tensors by parameter when they are fused."""
    names = [n for n, _ in model.named_modules()]
    kwargs = {"target_modules": targets}
    fused_experts = [n for n, p in model.named_parameters() if ".experts." in n and p.dim() == 3]
    if fused_experts:
        kwargs = {"target_modules": ATTN, "target_parameters": sorted({n.split(".layers.")[1].split(".", 1)[1] for n in fused_experts})}
    return kwargs, {"modules_sample": [n for n in names if ".layers.0." in n], "fused_expert_params": fused_experts}


def run_case(name, cls, cfg_kwargs, targets, root, seed):
    outdir = os.path.join(root, name)
    os.makedirs(outdir, exist_ok=True)
    info = {"transformers": transformers.__version__, "torch": torch.__version__, "peft": peft.__version__,
            "max_new_tokens": MAX_NEW, "train_steps": TRAIN_STEPS, "lr": LR}
    cfg_kwargs = {k: v for k, v in cfg_kwargs.items() if v is not None or k in ("sliding_window",)}
    config = cls(**cfg_kwargs)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, attn_implementation="eager")
    init_weights(model, seed)
    model_dir = os.path.join(outdir, "model")
    model.to(torch.bfloat16).save_pretrained(model_dir, max_shard_size="40KB")
    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager")
    with open(os.path.join(model_dir, "config.json")) as f:
        info["config"] = json.load(f)
    info["state_dict_keys"] = sorted(base.state_dict().keys())
    inputs = make_inputs()
    info["inputs"] = inputs
    out = {}
    longrope = "longrope" in name
    record(base, "", inputs, out, lambda: copy.deepcopy(base), nocache=longrope)

    try:
        run_peft(base, targets, inputs, out, info, outdir, seed)
    except Exception:
        info["peft_error"] = traceback.format_exc()
        print(f"{name}: peft part FAILED\n{info['peft_error']}")

    save_file({k: v.contiguous() for k, v in out.items()}, os.path.join(outdir, "expected.safetensors"),
              metadata={"transformers": transformers.__version__, "torch": torch.__version__})
    with open(os.path.join(outdir, "info.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(f"{name}: ok; losses {info.get('train_losses')}; adapter keys {len(info.get('adapter_keys', []))}")
    if "peft_error" in info:
        raise RuntimeError(f"{name}: peft part failed (base fixtures written)")


def run_peft(base, targets, inputs, out, info, outdir, seed):
    # ---- peft adapter with random, non-zero factors ----------------------------------------------------------------
    kwargs, seen = lora_targets(base, targets)
    info["peft_targets"] = kwargs
    info["peft_seen"] = seen
    lcfg = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, bias="none", task_type="CAUSAL_LM", **kwargs)
    pm = get_peft_model(copy.deepcopy(base), lcfg)
    gen = torch.Generator().manual_seed(seed + 1000)
    with torch.no_grad():
        for n, p in pm.named_parameters():
            if "lora_" in n:
                p.copy_(0.3 * torch.randn(p.shape, generator=gen))
    pm.save_pretrained(os.path.join(outdir, "adapter"))
    info["adapter_keys"] = sorted(get_peft_model_state_dict(pm).keys())
    record(pm, "adapter_", inputs, out, lambda: copy.deepcopy(pm), nocache="longrope" in outdir)

    # ---- a few transformers + peft training steps on that adapter ----------------------------------------------------
    g = torch.Generator().manual_seed(seed + 2000)
    ids = torch.randint(3, VOCAB - 1, (2, 24), generator=g)
    labels = ids.clone()
    labels[:, :6] = -100
    labels[1, 20:] = -100
    out["train/input_ids"] = ids
    out["train/labels"] = labels
    pm.train()
    trainable = [(n, p) for n, p in pm.named_parameters() if p.requires_grad]
    opt = torch.optim.AdamW([p for _, p in trainable], lr=LR, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    losses = []
    for step in range(TRAIN_STEPS):
        opt.zero_grad()
        loss = pm(input_ids=ids, labels=labels).loss
        loss.backward()
        if step == 0:
            out["train/loss0"] = loss.detach().float().clone()
            for n, p in trainable:
                out[f"train/grad/{n}"] = p.grad.detach().float().clone()
        losses.append(float(loss))
        opt.step()
    out["train/losses"] = torch.tensor(losses, dtype=torch.float32)
    pm.save_pretrained(os.path.join(outdir, "trained"))
    info["train_losses"] = losses


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: generate.py OUTDIR")
    root = sys.argv[1]
    os.makedirs(root, exist_ok=True)
    print("torch", torch.__version__, "transformers", transformers.__version__, "peft", peft.__version__)
    failures = {}
    only = os.environ.get("FAMILIES")
    for i, (name, (cls, kw, targets)) in enumerate(cases_config().items()):
        if only and name not in only.split(","):
            continue
        try:
            run_case(name, cls, kw, targets, root, 100 + i)
        except Exception:
            failures[name] = traceback.format_exc()
            print(f"{name}: FAILED\n{failures[name]}")
    with open(os.path.join(root, "failures.json"), "w") as f:
        json.dump(failures, f, indent=1)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
