"""transformers + peft baseline for the GPU speed issues: LoRA (or QLoRA) training throughput at a real model's shape.

Random weights of a real model's exact shape, initialised on the GPU (no hub, no download), bf16 base,
LoRA r=4 / alpha 8 on q,k,v,o,gate,up,down, batch 2 x 1000 tokens, AdamW (torch, fused off as HF's default),
gradient clipping 1.0, loss on all tokens (the masking does not change the cost). Prints and writes one JSON line
per configuration: tokens/s, step time, peak GPU memory, model-FLOPs utilisation (4·N FLOPs per token for a frozen
base + LoRA: forward 2N, backward through activations 2N; weight gradients of the base are not computed).

Shapes (--shape): qwen3-4b (Qwen3-4B-Instruct-2507, issue 9's rows), llama3-8b (Llama-3.1-8B) and gemma3-4b (the
text tower of gemma-3-4b-it, Gemma3ForCausalLM); the same numbers as bench/Training/BenchShapes.cs, which says where
they come from. The qwen3-4b model is built in fp32 and cast (as issue 9's rows were measured); the others are built
in bf16 directly, so the fp32 copy never sits in the caching allocator and the nvidia-smi peak is the training's.
--mode qlora quantizes the seven projections of every layer to NF4 (double quant, bf16 compute) with bitsandbytes and
prepares the model as peft's prepare_model_for_kbit_training does, when bitsandbytes is installed; without it the
script says so and exits 3 (bench/gpu/run-families.sh then runs the bf16 LoRA baseline at the same shape instead).

usage (GPU machine, from the repo root):
  python3 bench/gpu/baseline_hf.py OUT.jsonl [--steps 8] [--configs sdpa_ckpt,...] [--shape qwen3-4b] [--mode lora]
"""
import argparse, json, time, sys

import torch
from transformers import Qwen3Config, Qwen3ForCausalLM
from peft import LoraConfig, get_peft_model

SHAPE = dict(vocab_size=151936, hidden_size=2560, intermediate_size=9728, num_hidden_layers=36,
             num_attention_heads=32, num_key_value_heads=8, head_dim=128, max_position_embeddings=40960,
             rms_norm_eps=1e-6, tie_word_embeddings=True)
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def llama3_8b_config():
    from transformers import LlamaConfig
    return LlamaConfig(vocab_size=128256, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                       num_attention_heads=32, num_key_value_heads=8, head_dim=128, max_position_embeddings=131072,
                       rms_norm_eps=1e-5, tie_word_embeddings=False, attention_bias=False, mlp_bias=False,
                       bos_token_id=128000, eos_token_id=[128001, 128008, 128009],
                       rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
                                        "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                        "original_max_position_embeddings": 8192})


def gemma3_4b_config():
    from transformers import Gemma3TextConfig
    return Gemma3TextConfig(vocab_size=262208, hidden_size=2560, intermediate_size=10240, num_hidden_layers=34,
                            num_attention_heads=8, num_key_value_heads=4, head_dim=256, max_position_embeddings=131072,
                            rms_norm_eps=1e-6, tie_word_embeddings=True, query_pre_attn_scalar=256, sliding_window=1024,
                            hidden_activation="gelu_pytorch_tanh", attn_logit_softcapping=None,
                            final_logit_softcapping=None, pad_token_id=0, bos_token_id=2, eos_token_id=[1, 106],
                            rope_parameters={"full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 1e6},
                                             "sliding_attention": {"rope_type": "default", "rope_theta": 1e4}})


def model_class(shape):
    if shape == "llama3-8b":
        from transformers import LlamaForCausalLM
        return LlamaForCausalLM, llama3_8b_config
    if shape == "gemma3-4b":
        from transformers import Gemma3ForCausalLM
        return Gemma3ForCausalLM, gemma3_4b_config
    raise SystemExit(f"--shape: expected qwen3-4b, llama3-8b or gemma3-4b, got {shape!r}")


PEAK_BF16_TFLOPS = 790.0  # measured dense bf16 matmul on this GPU kind through TorchSharp (shared/gpu/README.md)

CONFIGS = {
    "eager_ckpt": dict(attn="eager", ckpt=True),
    "sdpa_ckpt": dict(attn="sdpa", ckpt=True),   # the baseline the issue measures against
    "sdpa_nockpt": dict(attn="sdpa", ckpt=False),
}


def build(attn, shape="qwen3-4b"):
    torch.manual_seed(0)
    if shape == "qwen3-4b":
        cfg = Qwen3Config(**SHAPE, rope_parameters={"rope_type": "default", "rope_theta": 5e6})
        cfg._attn_implementation = attn
        with torch.device("cuda"):
            return Qwen3ForCausalLM(cfg).to(torch.bfloat16)
    cls, make_config = model_class(shape)
    cfg = make_config()
    cfg._attn_implementation = attn
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        with torch.device("cuda"):
            return cls(cfg)
    finally:
        torch.set_default_dtype(default)


def quantize_nf4(model):
    """The seven projections of every layer as bitsandbytes NF4 (double quant, bf16 compute), as load_in_4bit makes them."""
    import bitsandbytes as bnb
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if name in TARGETS and isinstance(child, torch.nn.Linear):
                q = bnb.nn.Linear4bit(child.in_features, child.out_features, bias=child.bias is not None,
                                      compute_dtype=torch.bfloat16, compress_statistics=True, quant_type="nf4")
                q.weight = bnb.nn.Params4bit(child.weight.data.cpu(), requires_grad=False, quant_type="nf4",
                                             compress_statistics=True)
                setattr(module, name, q.cuda())
                del child
    torch.cuda.empty_cache()
    return model


def run(name, attn, ckpt, steps, batch, seq, shape="qwen3-4b", mode="lora"):
    model = build(attn, shape)
    n_params = sum(p.numel() for p in model.parameters())
    model_type = model.config.model_type
    if mode == "qlora":
        from peft import prepare_model_for_kbit_training
        model = prepare_model_for_kbit_training(quantize_nf4(model), use_gradient_checkpointing=False)
    if ckpt:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    model.config.use_cache = False
    lora = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, bias="none", task_type="CAUSAL_LM",
                      target_modules=TARGETS)
    model = get_peft_model(model, lora)
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    g = torch.Generator(device="cuda").manual_seed(1)
    ids = torch.randint(0, model.config.vocab_size, (batch, seq), device="cuda", generator=g)
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
    res = dict(name=name, impl="transformers+peft", shape=shape, model_type=model_type, mode=mode, attn=attn, gradient_checkpointing=ckpt, batch=batch, seq=seq,
               steps=steps, step_s=round(step_s, 4), tokens_per_s=round(tok_s, 1),
               peak_gib=round(torch.cuda.max_memory_allocated() / 2**30, 2), mfu=round(mfu, 4),
               params=n_params, trainable=sum(p.numel() for p in trainable), loss=float(out.loss),
               rope_parameters=getattr(model.config, "rope_parameters", None),
               sliding_layers=sum(t == "sliding_attention" for t in getattr(model.config, "layer_types", None) or []))
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
    ap.add_argument("--shape", default="qwen3-4b", choices=["qwen3-4b", "llama3-8b", "gemma3-4b"])
    ap.add_argument("--mode", default="lora", choices=["lora", "qlora"])
    a = ap.parse_args()
    import transformers, peft
    if a.mode == "qlora":
        try:
            import bitsandbytes  # noqa: F401
        except ImportError:
            print(json.dumps(dict(impl="transformers+peft", shape=a.shape, mode="qlora",
                                  error="bitsandbytes is not installed here: no NF4 baseline")), flush=True)
            sys.exit(3)
    meta = dict(gpu=torch.cuda.get_device_name(), torch=torch.__version__, transformers=transformers.__version__,
                peft=peft.__version__)
    with open(a.out, "a") as f:
        for name in a.configs.split(","):
            r = run(name, **CONFIGS[name], steps=a.steps, batch=a.batch, seq=a.seq, shape=a.shape, mode=a.mode)
            r.update(meta)
            print(json.dumps(r), flush=True)
            f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
