"""A random-weight model of Qwen3-4B-Instruct-2507's exact shape as a Hugging Face folder, made on the GPU machine
itself (no hub there): config + bf16 safetensors shards written by transformers' save_pretrained, plus the real
Qwen3 tokenizer files this repository embeds (src/RaftPipeline.Text/Assets/Qwen3).
usage (GPU machine, repo root): python3 bench/gpu/make_random_model.py OUTDIR [--layers N]
"""
import argparse, json, shutil
from pathlib import Path

import torch
from transformers import Qwen3Config, Qwen3ForCausalLM

SHAPE = dict(vocab_size=151936, hidden_size=2560, intermediate_size=9728, num_hidden_layers=36,
             num_attention_heads=32, num_key_value_heads=8, head_dim=128, max_position_embeddings=262144,
             rms_norm_eps=1e-6, tie_word_embeddings=True, bos_token_id=151643, eos_token_id=151645)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=SHAPE["num_hidden_layers"])
    ap.add_argument("--tokenizer-from", help="folder holding tokenizer.json and tokenizer_config.json "
                    "(default: the repository's src/RaftPipeline.Text/Assets/Qwen3)")
    a = ap.parse_args()
    out = Path(a.out)
    cfg = Qwen3Config(**{**SHAPE, "num_hidden_layers": a.layers}, rope_parameters={"rope_type": "default", "rope_theta": 5e6})
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = Qwen3ForCausalLM(cfg).to(torch.bfloat16)
    model.save_pretrained(out, max_shard_size="2GB")
    assets = Path(a.tokenizer_from) if a.tokenizer_from else Path(__file__).resolve().parents[2] / "src" / "RaftPipeline.Text" / "Assets" / "Qwen3"
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(assets / name, out / name)
    (out / "generation_config.json").write_text(json.dumps(
        {"bos_token_id": 151643, "eos_token_id": [151645, 151643], "pad_token_id": 151643,
         "do_sample": True, "temperature": 0.7, "top_p": 0.8, "top_k": 20}, indent=2) + "\n")
    print(f"wrote {out}: {sum(p.numel() for p in model.parameters()):,} parameters, {a.layers} layers")


if __name__ == "__main__":
    main()
