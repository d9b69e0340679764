"""transformers baseline for issue 3's GPU benchmark: forward and greedy-decode speed of the Qwen3-4B shape in bf16.

Same measurements as bench/Modeling (ours): one forward of 1 x 128 tokens keeping the last position's logits (mean
of 20 after a warm-up), and greedy decoding of exactly 64 new tokens after a 32-token prompt with the KV cache
(generate(do_sample=False, min_new_tokens=64), sdpa attention). Random weights initialised on the GPU.
usage (GPU machine, repo root): python3 bench/gpu/baseline_generate.py  → one JSON line
"""
import json, time

import torch
import transformers
from transformers import Qwen3Config, Qwen3ForCausalLM

SHAPE = dict(vocab_size=151936, hidden_size=2560, intermediate_size=9728, num_hidden_layers=36,
             num_attention_heads=32, num_key_value_heads=8, head_dim=128, max_position_embeddings=40960,
             rms_norm_eps=1e-6, tie_word_embeddings=True)


def main():
    cfg = Qwen3Config(**SHAPE, rope_parameters={"rope_type": "default", "rope_theta": 5e6})
    cfg._attn_implementation = "sdpa"
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = Qwen3ForCausalLM(cfg).to(torch.bfloat16).eval()
    ids = torch.randint(0, SHAPE["vocab_size"], (1, 128), device="cuda")
    with torch.no_grad():
        model(input_ids=ids, logits_to_keep=1)
        torch.cuda.synchronize(); t0 = time.perf_counter()
        for _ in range(20):
            model(input_ids=ids, logits_to_keep=1)
        torch.cuda.synchronize(); forward_ms = (time.perf_counter() - t0) / 20 * 1000
        prompt = ids[:, :32]
        kw = dict(do_sample=False, max_new_tokens=64, min_new_tokens=64, eos_token_id=None, pad_token_id=0)
        model.generate(prompt, **{**kw, "max_new_tokens": 4, "min_new_tokens": 4})
        torch.cuda.synchronize(); t0 = time.perf_counter()
        out = model.generate(prompt, **kw)
        torch.cuda.synchronize(); dt = time.perf_counter() - t0
    new = out.shape[1] - prompt.shape[1]
    print(json.dumps(dict(impl="transformers", shape="Qwen3-4B shape", dtype="bf16", forward_1x128_ms=round(forward_ms, 2),
                          decode_tokens_per_s=round(new / dt, 1), new_tokens=new, gpu=torch.cuda.get_device_name(),
                          torch=torch.__version__, transformers=transformers.__version__)))


if __name__ == "__main__":
    main()
