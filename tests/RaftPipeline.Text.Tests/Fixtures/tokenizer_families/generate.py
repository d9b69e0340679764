#!/usr/bin/env python3
"""Reference fixtures for tokenizer families other than Qwen3 (tests/RaftPipeline.Text.Tests/Tokenization).

Usage (from the repo root; no network, no model hub: every tokenizer is trained here):
    python tests/RaftPipeline.Text.Tests/Fixtures/tokenizer_families/generate.py OUTDIR

Real Llama / Mistral tokenizer files may not be committed, so this script TRAINS small tokenizers with the
`tokenizers` library on the inline TRAINING_TEXT, in the shapes those families' tokenizer.json files have:

    llama3         byte-level BPE, Llama 3's Split regex + ByteLevel(use_regex=False), model.ignore_merges=true,
                   a few whole words added to model.vocab with no merge that builds them (as tiktoken-converted
                   vocabularies have), post-processor Sequence[ByteLevel, TemplateProcessing("<|begin_of_text|> $A")]
    llama3_bpe     the same file with model.ignore_merges=false (plain BPE reaches those words' pieces instead)
    sentencepiece  Llama 2 / Mistral v0.1 style: normalizer Sequence[Prepend("▁"), Replace(" ", "▁")], no
                   pre-tokenizer, BPE with byte_fallback=true, fuse_unk=true, unk "<unk>", ids 0-2 = <unk> <s> </s>,
                   3-258 = <0x00>..<0xFF>, decoder Sequence[Replace("▁", " "), ByteFallback, Fuse, Strip(" ", 1, 0)],
                   post-processor TemplateProcessing("<s> $A")

Writes (8 files):
    OUTDIR/<style>/tokenizer.json, OUTDIR/<style>/tokenizer_config.json   for each style above
    OUTDIR/expected.jsonl   one object per (style, test string):
        {"style", "index", "text",
         "ids"                   tokenizers Tokenizer.encode(text, add_special_tokens=False).ids
         "ids_special"           tokenizers encode(text, add_special_tokens=True).ids
         "hf_ids"                transformers PreTrainedTokenizerFast(tokenizer_file=...).encode(text) (adds BOS)
         "hf_ids_plain"          the same with add_special_tokens=False
         "decoded"               transformers decode(hf_ids)
         "decoded_skip_special"  transformers decode(hf_ids, skip_special_tokens=True)
         "tokenizers_decoded"    tokenizers decode(ids, skip_special_tokens=False)}
    OUTDIR/meta.json        versions, sha256 of every written tokenizer file and of the test corpus, per style the
                            special token ids, vocabulary sizes, the words injected into the vocabulary, and any
                            disagreement between tokenizers, PreTrainedTokenizerFast(tokenizer_file=...) and
                            AutoTokenizer.from_pretrained(<style dir>).

The test corpus is ../tokenizer/corpus.jsonl (the Qwen3 parity corpus) followed by EXTRA_TEST_TEXTS.
Exits 1 (after writing everything) when the libraries disagree with each other.
"""
import hashlib
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import tokenizers  # noqa: E402
import transformers  # noqa: E402
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers  # noqa: E402
from transformers import AutoTokenizer, PreTrainedTokenizerFast  # noqa: E402

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent / "tokenizer" / "corpus.jsonl"

LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

# A few KB in the styles the test corpus has: English, Korean, code, emoji, numbers, whitespace.
TRAINING_TEXT = """
The quick brown fox jumps over the lazy dog. The dog doesn't care; it's sleeping in the sun.
She said, "I'm sure we'll finish the report by Friday, and they've agreed to review it."
Tokenizers split text into pieces; byte-level BPE never needs an unknown token.
In 2024 the team shipped 3 releases, fixed 127 bugs and wrote 4,096 tests in 15.5 weeks.
Call 010-1234-5678 or email support@example.com before 09:30 on 2025-01-02.
Prices: $19.99, €5, ¥1200, 50% off, 1/3 of 12345678 is 4115226.
The model reads the document, quotes the relevant passage, and answers only from the context.
If the answer is not in the document, it says that the document does not contain it.
Fine-tuning with LoRA adds small matrices A and B to each projection; the base weights stay frozen.
안녕하세요, 반갑습니다. 오늘 날씨가 정말 좋네요.
그것도 몰라? 여기 문서에 다 나와 있잖아. 다음부턴 문서를 먼저 확인해.
문서에 따르면, 신청 기간은 2025년 1월 2일부터 2월 28일까지입니다.
질문: 휴가는 며칠까지 쓸 수 있나요? 답변: 규정 제12조에 따라 연 15일입니다.
한국어 토큰화는 음절 단위로 이루어지는 경우가 많습니다. 한글은 자모로 구성됩니다.
컨텍스트에 답이 없습니다. 주어진 문서만으로는 알 수 없어요.
우리는 모델을 학습시키고, 평가하고, 결과를 비교합니다.
def tokenize(text: str) -> list[int]:
    ids = []
    for piece in split(text):
        ids.extend(vocab[piece])
    return ids

for (int i = 0; i < n; i++) { sum += values[i] * 2; }
if (x != null && x.Length > 0) return x[0]; else throw new ArgumentException("empty");
const answer = await fetch(url).then(r => r.json());
SELECT id, name FROM users WHERE age >= 18 ORDER BY name;
{"role": "user", "content": "Hello!"}, {"role": "assistant", "content": "Hi, how can I help?"}
Emoji: 😀 😂 👍 ❤️ 🎉 🚀 👩‍💻 👨‍👩‍👧 🇰🇷 — and text after them.
Numbers: 0 1 2 3 4 5 6 7 8 9 10 42 100 256 1000 65536 3.14159 2.71828 1e-6 0x1F.
Whitespace:  two spaces,   three,\ttab, and a line
that continues after a newline.
"""

# Whole words added to the llama3 vocabularies with no merge that builds them: with ignore_merges a pre-token
# equal to one of them is one token; plain BPE cannot reach them. Each appears in EXTRA_TEST_TEXTS.
INJECTED_WORDS = [" zyzzyva", " qwertyuiop", "Unbelievable", " 토큰화기", " 🦙🦙", "xyzzy", " multiplicatively"]

EXTRA_TEST_TEXTS = [
    "",
    " ",
    "zyzzyva qwertyuiop",
    "A zyzzyva, a qwertyuiop and Unbelievable xyzzy multiplicatively",
    "Unbelievable! Unbelievable? unbelievable",
    "한국어 토큰화기 토큰화 토큰화기입니다",
    "Llamas 🦙🦙 and 🦙 and 🦙🦙🦙",
    "xyzzy xyzzyxyzzy  xyzzy",
    "<|begin_of_text|>Hello world<|end_of_text|>",
    "<|begin_of_text|><|begin_of_text|>",
    "Hello<|eot_id|> world",
    "<s>Hello</s>",
    "<s> Hello </s> <unk>",
    "Hello <s>world</s>again",
    "▁already▁has▁the▁metaspace▁character",
    "text ▁ with ▁▁ metaspace",
    "<0x41> is not a byte token in text",
    "  two leading spaces",
    "trailing spaces   ",
    "\n\nnewlines first",
    "don't DON'T I'M you'RE We'Ll they'VE it'S",
    "1234567 12 1 123456789012",
    "The quick brown fox jumps over the lazy dog.",
    "안녕하세요, 반갑습니다.",
    "def tokenize(text: str) -> list[int]:\n    return [vocab[p] for p in split(text)]",
    "Emoji 👩‍💻👨‍👩‍👧🇰🇷 and rare 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𓀀",
    "Hello . world , really ? yes ! I 'm you 're they 've it 's don 't",
]

LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
SP_SPECIALS = ["<unk>", "<s>", "</s>"]


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte → printable character table (what ByteLevel writes in vocab keys)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_TO_CHAR = bytes_to_unicode()


def byte_level(text: str) -> str:
    return "".join(BYTE_TO_CHAR[b] for b in text.encode("utf-8"))


def training_lines() -> list[str]:
    return [line for line in TRAINING_TEXT.split("\n") if line.strip()]


def build_llama3(ignore_merges: bool) -> tuple[Tokenizer, list[str]]:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=900, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(training_lines(), trainer=trainer)

    data = json.loads(tok.to_str())
    vocab = data["model"]["vocab"]
    injected = []
    next_id = max(vocab.values()) + 1
    for word in INJECTED_WORDS:
        key = byte_level(word)
        if key in vocab:
            continue
        vocab[key] = next_id
        next_id += 1
        injected.append(word)
    data["model"]["ignore_merges"] = ignore_merges
    tok = Tokenizer.from_str(json.dumps(data))

    # Special tokens after the vocabulary, as in Llama 3 (128000+).
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in LLAMA3_SPECIALS])
    bos = "<|begin_of_text|>"
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single=f"{bos} $A", pair=f"{bos} $A {bos} $B",
                                      special_tokens=[(bos, tok.token_to_id(bos))]),
    ])
    return tok, injected


def build_sentencepiece() -> Tokenizer:
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    # Training only: split words at "▁" (SentencePiece never merges across whitespace); removed below.
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="never", split=True)
    # limit_alphabet leaves rarer characters out, so byte fallback is exercised beyond the unseen ones.
    trainer = trainers.BpeTrainer(vocab_size=1000, min_frequency=2, show_progress=False, special_tokens=SP_SPECIALS,
                                  limit_alphabet=160)
    tok.train_from_iterator(training_lines(), trainer=trainer)

    data = json.loads(tok.to_str())
    trained = data["model"]["vocab"]
    # Llama 2's layout: <unk> <s> </s>, then the 256 byte tokens, then the learned pieces in training order.
    vocab = {t: i for i, t in enumerate(SP_SPECIALS)}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    for token, _ in sorted(trained.items(), key=lambda kv: kv[1]):
        if token not in vocab:
            vocab[token] = len(vocab)
    data["model"]["vocab"] = vocab
    data["model"]["byte_fallback"] = True
    data["model"]["fuse_unk"] = True
    data["model"]["unk_token"] = "<unk>"
    data["pre_tokenizer"] = None
    for added in data["added_tokens"]:
        added["id"] = vocab[added["content"]]
    tok = Tokenizer.from_str(json.dumps(data))
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(content=" ", left=1, right=0)])
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                       special_tokens=[("<s>", vocab["<s>"])])
    return tok


def read_corpus(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [json.loads(line) for line in lines]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    out_dir = Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    texts = read_corpus(CORPUS) + EXTRA_TEST_TEXTS

    llama3, injected = build_llama3(ignore_merges=True)
    llama3_bpe, injected_bpe = build_llama3(ignore_merges=False)
    assert injected == injected_bpe, "training is not deterministic"
    styles = {
        "llama3": (llama3, {"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>",
                            "clean_up_tokenization_spaces": True, "model_max_length": 8192,
                            "tokenizer_class": "PreTrainedTokenizerFast"}),
        "llama3_bpe": (llama3_bpe, {"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>",
                                    "clean_up_tokenization_spaces": False, "model_max_length": 8192,
                                    "tokenizer_class": "PreTrainedTokenizerFast"}),
        "sentencepiece": (build_sentencepiece(), {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
                                                  "add_bos_token": True, "add_eos_token": False,
                                                  "clean_up_tokenization_spaces": False, "legacy": True,
                                                  "model_max_length": 4096,
                                                  "tokenizer_class": "PreTrainedTokenizerFast"}),
    }

    rows = []
    meta = {
        "tokenizers_version": tokenizers.__version__,
        "transformers_version": transformers.__version__,
        "corpus_sha256": sha256(CORPUS),
        "extra_test_texts": EXTRA_TEST_TEXTS,
        "injected_words": injected,
        "styles": {},
    }
    disagreements = []
    for style, (tok, config) in styles.items():
        style_dir = out_dir / style
        style_dir.mkdir(parents=True, exist_ok=True)
        tok.save(str(style_dir / "tokenizer.json"), pretty=False)
        with open(style_dir / "tokenizer_config.json", "w", encoding="utf-8", newline="\n") as f:
            json.dump(config, f, ensure_ascii=False, indent=2)
            f.write("\n")

        fast = Tokenizer.from_file(str(style_dir / "tokenizer.json"))
        kwargs = {k: v for k, v in config.items() if k not in ("tokenizer_class", "model_max_length", "legacy")}
        hf = PreTrainedTokenizerFast(tokenizer_file=str(style_dir / "tokenizer.json"), **kwargs)
        try:
            auto = AutoTokenizer.from_pretrained(str(style_dir), local_files_only=True)
        except (OSError, ValueError, KeyError) as e:  # recorded, not fatal: tokenizer_file= is the reference
            auto = None
            disagreements.append({"style": style, "index": -1, "problems": [f"AutoTokenizer failed: {e!r}"]})
        for index, text in enumerate(texts):
            ids = fast.encode(text, add_special_tokens=False).ids
            ids_special = fast.encode(text, add_special_tokens=True).ids
            hf_ids = hf.encode(text, add_special_tokens=True)
            hf_ids_plain = hf.encode(text, add_special_tokens=False)
            row = {
                "style": style,
                "index": index,
                "text": text,
                "ids": ids,
                "ids_special": ids_special,
                "hf_ids": hf_ids,
                "hf_ids_plain": hf_ids_plain,
                "decoded": hf.decode(hf_ids),
                "decoded_skip_special": hf.decode(hf_ids, skip_special_tokens=True),
                "tokenizers_decoded": fast.decode(ids, skip_special_tokens=False),
            }
            problems = []
            if list(hf_ids_plain) != list(ids):
                problems.append("transformers add_special_tokens=False differs from tokenizers")
            if list(hf_ids) != list(ids_special):
                problems.append("transformers add_special_tokens=True differs from tokenizers")
            if auto is not None and list(auto.encode(text)) != list(hf_ids):
                problems.append("AutoTokenizer.from_pretrained differs from PreTrainedTokenizerFast(tokenizer_file)")
            if auto is not None and auto.decode(hf_ids) != row["decoded"]:
                problems.append("AutoTokenizer decode differs")
            if problems:
                disagreements.append({"style": style, "index": index, "problems": problems})
            rows.append(row)

        meta["styles"][style] = {
            "tokenizer_json_sha256": sha256(style_dir / "tokenizer.json"),
            "tokenizer_config_json_sha256": sha256(style_dir / "tokenizer_config.json"),
            "vocab_size": fast.get_vocab_size(with_added_tokens=False),
            "vocab_size_with_added_tokens": fast.get_vocab_size(with_added_tokens=True),
            "len_transformers_tokenizer": len(hf),
            "bos_token_id": hf.bos_token_id,
            "eos_token_id": hf.eos_token_id,
            "unk_token_id": hf.unk_token_id,
            "all_special_ids": sorted(hf.all_special_ids),
            "transformers_class": type(auto).__name__ if auto is not None else None,
        }

    meta["disagreements"] = disagreements
    with open(out_dir / "expected.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            # ensure_ascii keeps every line free of raw CR/U+2028 so line readers split it as written.
            f.write(json.dumps(row, ensure_ascii=True) + "\n")
    with open(out_dir / "meta.json", "w", encoding="utf-8", newline="\n") as f:
        json.dump(meta, f, ensure_ascii=True, indent=2)
        f.write("\n")

    total = sum(p.stat().st_size for p in out_dir.rglob("*") if p.is_file())
    print(f"tokenizers {tokenizers.__version__}, transformers {transformers.__version__}")
    print(f"{len(texts)} strings x {len(styles)} styles; injected words {injected}; {total} bytes in {out_dir}")
    if disagreements:
        print(f"DISAGREEMENT between the libraries on {len(disagreements)} rows:")
        for d in disagreements[:20]:
            print(f"  {d['style']} line {d['index'] + 1}: {'; '.join(d['problems'])}")
        return 1
    print("tokenizers, PreTrainedTokenizerFast(tokenizer_file) and AutoTokenizer agree on every string")
    return 0


if __name__ == "__main__":
    sys.exit(main())
