"""Reference fixture for the decoder parity tests (RaftPipeline.Modeling.Tests/Decoder/ParityTests.cs).

Usage (from the repository root, on the GPU machine; no network needed):
    python tests/RaftPipeline.Modeling.Tests/Fixtures/qwen3_parity/generate.py OUTDIR

Builds tiny random decoders with transformers and records what transformers computes:
  * qwen3: vocab 151936 (the real Qwen3 tokenizer's), hidden 32, 2 layers, 4 heads, 2 KV heads, head_dim 16
    (!= hidden/heads on purpose), tied embeddings, rope_theta 1e6. Saved with save_pretrained in bf16, sharded
    (>= 2 shards). Reloaded from disk in fp32, then logits and greedy generations are computed on the CPU.
  * qwen2 (q/k/v bias, separate lm_head) and llama (no bias), vocab 512, random ids; weights in fp32 with
    their config.json inside the safetensors metadata (key "config_json") to stay within 8 files.

Outputs (8 files, each < 16 MiB):
  config.json, model.safetensors.index.json, model-0000{1,2}-of-00002.safetensors   the qwen3 model folder
  qwen2.safetensors, llama.safetensors                                             small models + config
  expected.safetensors                                                             everything computed
  cases.json                                                                       texts, ids, versions

expected.safetensors keys, per model M in {qwen3, qwen2, llama} and case C:
  M/C/input_ids, M/C/attention_mask, M/C/position_ids      [B, T] int64 (left padding where B > 1)
  M/C/argmax [B, T] int64 and M/C/logsumexp [B, T] fp32   over the full vocabulary, every position
  M/C/logits                                             [B, T, V] fp32 (qwen2/llama: full vocabulary)
  M/C/logit_columns                                      [B, T, K] fp32 (qwen3: the K columns in qwen3/columns)
  M/C/last_logits                                        [B, V] fp32 at the last position (qwen3)
  M/C/greedy, M/C/greedy_rp                              [B, T + new] int64: generate(do_sample=False,
                                                         max_new_tokens=20), without / with repetition_penalty=1.1
Forward logits use position ids derived from the attention mask (cumsum - 1, pads set to 1), as generate does.
"""
import inspect
import json
import os
import shutil
import sys
import tempfile

import torch
import transformers
from safetensors.torch import save_file
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM, Qwen3Config, Qwen3ForCausalLM

REPO = os.getcwd()
TOKENIZER_DIR = os.path.join(REPO, "src", "RaftPipeline.Text", "Assets", "Qwen3")
MAX_NEW = 20
QWEN3_PAD = 151643
QWEN3_EOS = [151645, 151643]
SMALL_VOCAB = 512
SMALL_PAD = 0
SMALL_EOS = 511
STD = 0.2  # larger than the default 0.02 so the logits are far from flat


def init_weights(model, seed):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                # Norm weights away from 1 so that a missing or misplaced norm shows in the logits.
                p.copy_(1.0 + STD * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(STD * torch.randn(p.shape, generator=gen))


def rope(config_class, theta):
    """transformers 5.x takes rope_parameters; 4.x takes rope_theta."""
    if "rope_parameters" in inspect.signature(config_class.__init__).parameters:
        return {"rope_parameters": {"rope_type": "default", "rope_theta": theta}}
    return {"rope_theta": theta}


def check_rope(model, theta, head_dim):
    inv_freq = model.model.rotary_emb.inv_freq
    want = 1.0 / theta ** (2.0 / head_dim)
    assert abs(float(inv_freq[1]) - want) < 1e-9 * max(1.0, want), (float(inv_freq[1]), want)


def position_ids_from_mask(mask):
    pos = mask.long().cumsum(-1) - 1
    pos.masked_fill_(mask == 0, 1)
    return pos


def left_pad(seqs, pad):
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, width - len(s):] = torch.tensor(s, dtype=torch.long)
        mask[i, width - len(s):] = 1
    return ids, mask


def record(model, name, cases, pad, eos, out, columns=None):
    model.eval()
    for case, seqs in cases.items():
        ids, mask = left_pad(seqs, pad)
        pos = position_ids_from_mask(mask)
        with torch.no_grad():
            logits = model(input_ids=ids, attention_mask=mask, position_ids=pos).logits.float()
        key = f"{name}/{case}"
        out[f"{key}/input_ids"] = ids
        out[f"{key}/attention_mask"] = mask
        out[f"{key}/position_ids"] = pos
        out[f"{key}/argmax"] = logits.argmax(-1)
        out[f"{key}/logsumexp"] = torch.logsumexp(logits, -1)
        if columns is None:
            out[f"{key}/logits"] = logits
        else:
            out[f"{key}/logit_columns"] = logits[:, :, columns].contiguous()
            out[f"{key}/last_logits"] = logits[:, -1, :].contiguous()
        for suffix, extra in (("greedy", {}), ("greedy_rp", {"repetition_penalty": 1.1})):
            with torch.no_grad():
                gen = model.generate(input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=MAX_NEW,
                                     min_new_tokens=0, pad_token_id=pad, eos_token_id=eos, **extra)
            out[f"{key}/{suffix}"] = gen.clone()


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: generate.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    torch.manual_seed(1234)
    expected = {}
    summary = {"transformers": transformers.__version__, "torch": torch.__version__, "max_new_tokens": MAX_NEW,
               "qwen3": {"pad": QWEN3_PAD, "eos": QWEN3_EOS}, "small": {"pad": SMALL_PAD, "eos": SMALL_EOS}}

    # ---- qwen3 with the real tokenizer --------------------------------------------------------------------
    tok = AutoTokenizer.from_pretrained(TOKENIZER_DIR)
    texts = {
        "korean": "안녕하세요! 오늘은 날씨가 정말 좋네요. 한국어 문장도 잘 처리되는지 확인합니다.",
        "english": "The quick brown fox jumps over the lazy dog, then writes a unit test.",
    }
    chat = tok.apply_chat_template(
        [{"role": "system", "content": "You are a helpful assistant."},
         {"role": "user", "content": "대한민국의 수도는 어디인가요? Answer in one word."}],
        tokenize=False, add_generation_prompt=True)
    texts["chat"] = chat
    enc = {k: tok(v, add_special_tokens=False)["input_ids"] for k, v in texts.items()}
    cases = {k: [v] for k, v in enc.items()}
    cases["batch"] = [enc["english"], tok("짧은 문장", add_special_tokens=False)["input_ids"], enc["korean"][:9]]
    summary["qwen3"]["texts"] = texts
    summary["qwen3"]["cases"] = cases

    config = Qwen3Config(vocab_size=151936, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=16, tie_word_embeddings=True,
                         **rope(Qwen3Config, 1e6), max_position_embeddings=4096, rms_norm_eps=1e-6,
                         bos_token_id=QWEN3_PAD, eos_token_id=QWEN3_EOS[0], pad_token_id=QWEN3_PAD)
    model = Qwen3ForCausalLM(config)
    init_weights(model, 1)
    check_rope(model, 1e6, 16)
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    with tempfile.TemporaryDirectory() as tmp:
        model.to(torch.bfloat16).save_pretrained(tmp, max_shard_size="6MB")
        shards = sorted(f for f in os.listdir(tmp) if f.endswith(".safetensors"))
        assert len(shards) >= 2, f"expected >= 2 shards, got {shards}"
        for f in os.listdir(tmp):
            if f.endswith(".safetensors") or f in ("config.json", "model.safetensors.index.json"):
                shutil.copy(os.path.join(tmp, f), os.path.join(outdir, f))
    reloaded = Qwen3ForCausalLM.from_pretrained(outdir, dtype=torch.float32)
    g = torch.Generator().manual_seed(7)
    columns = torch.cat([torch.arange(0, 1024), torch.randperm(151936 - 1024, generator=g)[:3072] + 1024]).sort().values
    expected["qwen3/columns"] = columns
    record(reloaded, "qwen3", cases, QWEN3_PAD, QWEN3_EOS, expected, columns=columns)

    # ---- small qwen2 and llama with random ids ------------------------------------------------------------
    gen = torch.Generator().manual_seed(99)
    small_cases = {
        "short": [torch.randint(3, SMALL_VOCAB - 1, (7,), generator=gen).tolist()],
        "long": [torch.randint(3, SMALL_VOCAB - 1, (40,), generator=gen).tolist()],
        "batch": [torch.randint(3, SMALL_VOCAB - 1, (n,), generator=gen).tolist() for n in (12, 5, 9)],
    }
    summary["small"]["cases"] = small_cases
    smalls = {
        "qwen2": (Qwen2ForCausalLM, Qwen2Config(vocab_size=SMALL_VOCAB, hidden_size=32, intermediate_size=64,
                                                num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                                tie_word_embeddings=False, rms_norm_eps=1e-6, **rope(Qwen2Config, 1e6),
                                                max_position_embeddings=512, bos_token_id=1, eos_token_id=SMALL_EOS,
                                                pad_token_id=SMALL_PAD)),
        "llama": (LlamaForCausalLM, LlamaConfig(vocab_size=SMALL_VOCAB, hidden_size=32, intermediate_size=64,
                                                num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                                tie_word_embeddings=False, rms_norm_eps=1e-5, **rope(LlamaConfig, 1e4),
                                                max_position_embeddings=512, bos_token_id=1, eos_token_id=SMALL_EOS,
                                                pad_token_id=SMALL_PAD)),
    }
    for i, (name, (cls, cfg)) in enumerate(smalls.items()):
        m = cls(cfg)
        init_weights(m, 10 + i)
        check_rope(m, 1e6 if name == "qwen2" else 1e4, 8)
        m = m.float()
        state = {k: v.detach().contiguous() for k, v in m.state_dict().items()}
        save_file(state, os.path.join(outdir, f"{name}.safetensors"),
                  metadata={"format": "pt", "config_json": m.config.to_json_string()})
        record(m, name, small_cases, SMALL_PAD, SMALL_EOS, expected)

    save_file({k: v.contiguous() for k, v in expected.items()}, os.path.join(outdir, "expected.safetensors"),
              metadata={"transformers": transformers.__version__, "torch": torch.__version__})
    with open(os.path.join(outdir, "cases.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, ensure_ascii=False, indent=1)

    files = sorted(os.listdir(outdir))
    assert len(files) <= 8, files
    for f in files:
        size = os.path.getsize(os.path.join(outdir, f))
        assert size < 16 * 1024 * 1024, (f, size)
        print(f"{f}: {size} bytes")


if __name__ == "__main__":
    main()
