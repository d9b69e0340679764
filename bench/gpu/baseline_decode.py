"""transformers baseline for issue 18's decode benchmark: greedy generation of the Qwen3-4B shape in bf16, random weights
made on the GPU, a 64-token prompt and exactly 128 new tokens (min_new_tokens), batch 1 and 16, sdpa attention.

Modes: "eager" is generate() as the stages would call it (dynamic cache); "static" is transformers' own fast path,
cache_implementation="static", for which generate() compiles the forward with torch.compile (the anchor: compile time
is reported apart and left out of tok/s). NF4 is not measured here: bitsandbytes is not installed on the GPU machine.
tok/s = new tokens of all rows / wall time of the timed generate call (after one warm-up call).
usage (GPU machine, repo root): python3 bench/gpu/baseline_decode.py eager|static [batch ...]  → one JSON line per batch
"""
import json, sys, time

import torch
import transformers
from transformers import Qwen3Config, Qwen3ForCausalLM

SHAPE = dict(vocab_size=151936, hidden_size=2560, intermediate_size=9728, num_hidden_layers=36,
             num_attention_heads=32, num_key_value_heads=8, head_dim=128, max_position_embeddings=40960,
             rms_norm_eps=1e-6, tie_word_embeddings=True)
PROMPT, NEW = 64, 128


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "eager"
    batches = [int(b) for b in sys.argv[2:]] or [1, 16]
    cfg = Qwen3Config(**SHAPE, rope_parameters={"rope_type": "default", "rope_theta": 5e6})
    cfg._attn_implementation = "sdpa"
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = Qwen3ForCausalLM(cfg).to(torch.bfloat16).eval()
    for batch in batches:
        ids = torch.randint(1, SHAPE["vocab_size"], (batch, PROMPT), device="cuda")
        mask = torch.ones_like(ids)
        kw = dict(do_sample=False, max_new_tokens=NEW, min_new_tokens=NEW, eos_token_id=None, pad_token_id=0,
                  attention_mask=mask)
        if mode == "static":
            kw["cache_implementation"] = "static"
        try:
            with torch.no_grad():
                torch.cuda.synchronize(); t0 = time.perf_counter()
                # warm-up: the full length in static mode (it compiles for these shapes), a few tokens in eager mode
                model.generate(ids, **(kw if mode == "static" else {**kw, "max_new_tokens": 4, "min_new_tokens": 4}))
                torch.cuda.synchronize(); warm = time.perf_counter() - t0
                t0 = time.perf_counter()
                out = model.generate(ids, **kw)
                torch.cuda.synchronize(); dt = time.perf_counter() - t0
            new = out.shape[1] - PROMPT
            print(json.dumps(dict(impl=f"transformers-{mode}", weights="bf16", batch=batch, prompt=PROMPT, new_tokens=new,
                                  tokens_per_s=round(batch * new / dt, 1), warmup_s=round(warm, 1),
                                  gpu=torch.cuda.get_device_name(), torch=torch.__version__,
                                  transformers=transformers.__version__)), flush=True)
        except Exception as e:  # one failing mode must not hide the other rows
            print(json.dumps(dict(impl=f"transformers-{mode}", batch=batch, error=f"{type(e).__name__}: {str(e)[:300]}")), flush=True)


if __name__ == "__main__":
    main()
