"""transformers + peft baseline for the GPU speed issue: LoRA training throughput on the Qwen3-4B shape.

Random weights of Qwen3-4B-Instruct-2507's exact shape, initialised on the GPU (no hub, no download), bf16 base,
LoRA r=4 / alpha 8 on q,k,v,o,gate,up,down, batch 2 x 1000 tokens, AdamW (torch, fused off as HF's default),
gradient clipping 1.0, loss on all tokens (the masking does not change the cost). Prints and writes one JSON line
per configuration: tokens/s, step time, peak GPU memory, model-FLOPs utilisation (4·N FLOPs per token for a frozen
base + LoRA: forward 2N, backward through activations 2N; weight gradients of the base are not computed).

Status: written, not yet run on the GPU machine (issue 9 runs it next to our tool in one call).
usage (GPU machine, from the repo root): python3 bench/gpu/baseline_hf.py OUT.jsonl [--steps 8] [--configs sdpa_ckpt,...]
"""
import argparse, json, time, sys

import torch
from transformers import Qwen3Config, Qwen3ForCausalLM
from peft import LoraConfig, get_peft_model

SHAPE = dict(vocab_size=151936, hidden_size=2560, intermediate_size=9728, num_hidden_layers=36,
             num_attention_heads=32, num_key_value_heads=8, head_dim=128, max_position_embeddings=40960,
             rms_norm_eps=1e-6, tie_word_embeddings=True)
PEAK_BF16_TFLOPS = 790.0  # measured dense bf16 matmul on this GPU kind through TorchSharp (shared/gpu/README.md)

CONFIGS = {
    "eager_ckpt": dict(attn="eager", ckpt=True),
    "sdpa_ckpt": dict(attn="sdpa", ckpt=True),   # the baseline the issue measures against
    "sdpa_nockpt": dict(attn="sdpa", ckpt=False),
}


def build(attn):
    cfg = Qwen3Config(**SHAPE, rope_parameters={"rope_type": "default", "rope_theta": 5e6})
    cfg._attn_implementation = attn
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = Qwen3ForCausalLM(cfg).to(torch.bfloat16)
    return model


def run(name, attn, ckpt, steps, batch, seq):
    model = build(attn)
    n_params = sum(p.numel() for p in model.parameters())
    if ckpt:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    model.config.use_cache = False
    lora = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, bias="none", task_type="CAUSAL_LM",
                      target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    model = get_peft_model(model, lora)
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    g = torch.Generator(device="cuda").manual_seed(1)
    ids = torch.randint(0, SHAPE["vocab_size"], (batch, seq), device="cuda", generator=g)
    torch.cuda.reset_peak_memory_stats()
    times = []
    for step in range(steps):
        torch.cuda.synchronize(); t0 = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            out = model(input_ids=ids, labels=ids)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        opt.step(); opt.zero_grad(set_to_none=True)
        torch.cuda.synchronize(); times.append(time.perf_counter() - t0)
    warm = times[2:] if len(times) > 3 else times
    step_s = sum(warm) / len(warm)
    tok_s = batch * seq / step_s
    mfu = 4 * n_params * tok_s / (PEAK_BF16_TFLOPS * 1e12)
    res = dict(name=name, impl="transformers+peft", attn=attn, gradient_checkpointing=ckpt, batch=batch, seq=seq,
               steps=steps, step_s=round(step_s, 4), tokens_per_s=round(tok_s, 1),
               peak_gib=round(torch.cuda.max_memory_allocated() / 2**30, 2), mfu=round(mfu, 4),
               params=n_params, trainable=sum(p.numel() for p in trainable), loss=float(out.loss))
    del model, opt, out
    torch.cuda.empty_cache()
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--seq", type=int, default=1000)
    ap.add_argument("--configs", default="sdpa_ckpt")
    a = ap.parse_args()
    import transformers, peft
    meta = dict(gpu=torch.cuda.get_device_name(), torch=torch.__version__, transformers=transformers.__version__,
                peft=peft.__version__)
    with open(a.out, "a") as f:
        for name in a.configs.split(","):
            r = run(name, **CONFIGS[name], steps=a.steps, batch=a.batch, seq=a.seq)
            r.update(meta)
            print(json.dumps(r), flush=True)
            f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
