"""Reference fixture for the GGUF export tests (RaftPipeline.Export.Tests).

Usage (from the repository root, on the GPU machine; no network needed):
    python tests/RaftPipeline.Export.Tests/Fixtures/gguf_families/generate.py OUTDIR

Writes one tiny Hugging Face model folder per family the tool loads (qwen3, qwen2, llama), as transformers and
tokenizers save them: config.json, generation_config.json, model.safetensors (bf16), tokenizer.json,
tokenizer_config.json. Sizes are chosen for the GGUF k-quants: hidden 256 and intermediate 256 are multiples of
ggml's 256-value super-block, so Q4_K and Q6_K blocks are really exercised (a tiny preset with hidden 64 would only
exercise the fallback).

Tokenizers are byte-level BPE trained here by the tokenizers library on a few sentences (vocab 512, the model's
vocab_size), with the pre-tokenizer regex of the family's real tokenizer, so that llama.cpp meets the same
pre-tokenizer it would meet on the real model:
  * qwen3, qwen2: Qwen2's split regex (llama.cpp pre-tokenizer "qwen2"), ChatML special tokens, no BOS added.
  * llama:        Llama 3's split regex (llama.cpp pre-tokenizer "llama-bpe"), Llama 3 header tokens, BOS added.
Chat templates are small templates of the same shape as the families' own (ChatML; Llama 3 headers).
Weights: N(0, 0.1) for matrices, 1 + N(0, 0.1) for norms, so greedy decoding is not a tie between flat logits.
"""
import inspect
import json
import os
import sys
import tempfile

import torch
import transformers
import tokenizers
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import (GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast, Qwen2Config,
                          Qwen2ForCausalLM, Qwen3Config, Qwen3ForCausalLM)

VOCAB = 512
STD = 0.1
QWEN_SPLIT = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
LLAMA3_SPLIT = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""

CHATML = ("{%- for message in messages %}"
          "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
          "{%- endfor %}"
          "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}")
LLAMA3 = ("{{- bos_token }}"
          "{%- for message in messages %}"
          "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}"
          "{%- endfor %}"
          "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}")

CORPUS = [
    "The quick brown fox jumps over the lazy dog, then writes a unit test.",
    "You are a helpful assistant. Answer the question from the context.",
    "Context: Seoul is the capital of South Korea.\n---\nQuestion: What is the capital of Korea?",
    "안녕하세요! 오늘은 날씨가 정말 좋네요. 한국어 문장도 잘 처리되는지 확인합니다.",
    "In 2024, 12345 tokens were counted; 3.14159 is pi. It's what we'd done and they'll do.",
    "def main():\n    print('hello world')\n    return 0\n",
] * 20


def rope(config_class, theta):
    """transformers 5.x takes rope_parameters; 4.x takes rope_theta."""
    if "rope_parameters" in inspect.signature(config_class.__init__).parameters:
        return {"rope_parameters": {"rope_type": "default", "rope_theta": theta}}
    return {"rope_theta": theta}


def train_tokenizer(split, specials, bos):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(split), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer)
    if bos is None:
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
    else:
        bos_id = tok.token_to_id(bos)
        tok.post_processor = processors.TemplateProcessing(single=f"{bos}:0 $A:0", pair=f"{bos}:0 $A:0 {bos}:1 $B:1",
                                                           special_tokens=[(bos, bos_id)])
    assert tok.get_vocab_size() <= VOCAB, tok.get_vocab_size()
    return tok


def init_weights(model, seed):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + STD * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(STD * torch.randn(p.shape, generator=gen))


def write_family(outdir, name, cls, config_cls, seed, split, specials, bos, eos, pad, template, tie, theta, extra):
    tok = train_tokenizer(split, specials, bos)
    ids = {t: tok.token_to_id(t) for t in specials}
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=bos, eos_token=eos[0], pad_token=pad,
                                   add_bos_token=bos is not None, chat_template=template)
    config = config_cls(vocab_size=VOCAB, hidden_size=256, intermediate_size=256, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=tie, rms_norm_eps=1e-6,
                        max_position_embeddings=2048, bos_token_id=ids[bos] if bos else ids[pad],
                        eos_token_id=[ids[e] for e in eos], pad_token_id=ids[pad], **rope(config_cls, theta), **extra)
    model = cls(config)
    init_weights(model, seed)
    model.generation_config = GenerationConfig(
        bos_token_id=config.bos_token_id, eos_token_id=[ids[e] for e in eos], pad_token_id=ids[pad], do_sample=True,
        temperature=0.7, top_p=0.8, top_k=20, repetition_penalty=1.05)
    folder = os.path.join(outdir, name)
    model.to(torch.bfloat16).save_pretrained(folder)
    fast.save_pretrained(folder)
    # Check: the saved folder reloads and its template renders a conversation with the family's markers.
    reloaded = transformers.AutoTokenizer.from_pretrained(folder)
    text = reloaded.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True)
    print(name, repr(text), {t: ids[t] for t in specials})
    print(name, reloaded("hello world")["input_ids"])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: generate.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    chatml = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    write_family(outdir, "qwen3", Qwen3ForCausalLM, Qwen3Config, 1, QWEN_SPLIT, chatml, None, ["<|im_end|>", "<|endoftext|>"],
                 "<|endoftext|>", CHATML, True, 1e6, {"head_dim": 64})
    write_family(outdir, "qwen2", Qwen2ForCausalLM, Qwen2Config, 2, QWEN_SPLIT, chatml, None, ["<|im_end|>", "<|endoftext|>"],
                 "<|endoftext|>", CHATML, False, 1e6, {})
    llama = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    write_family(outdir, "llama", LlamaForCausalLM, LlamaConfig, 3, LLAMA3_SPLIT, llama, "<|begin_of_text|>",
                 ["<|eot_id|>", "<|end_of_text|>"], "<|end_of_text|>", LLAMA3, False, 500000.0, {})
    with open(os.path.join(outdir, "versions.json"), "w") as f:
        json.dump({"transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                   "torch": torch.__version__}, f, indent=1)
    for root, _, files in os.walk(outdir):
        for f in sorted(files):
            print(os.path.join(root, f), os.path.getsize(os.path.join(root, f)))


if __name__ == "__main__":
    main()
