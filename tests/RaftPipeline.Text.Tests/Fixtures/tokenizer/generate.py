#!/usr/bin/env python3
"""Reference token ids for the tokenizer parity test (tests/RaftPipeline.Text.Tests/Tokenization).

Usage (from the repo root, no network needed):
    python tests/RaftPipeline.Text.Tests/Fixtures/tokenizer/generate.py OUTDIR

Reads corpus.jsonl beside this script (one JSON string per line) and the repo's Qwen3 tokenizer
(src/RaftPipeline.Text/Assets/Qwen3), encodes every string with Hugging Face `tokenizers`
(Tokenizer.from_file, add_special_tokens=False) and with transformers (AutoTokenizer.from_pretrained of
the folder, encode(add_special_tokens=True)), decodes with both, and writes:

    OUTDIR/expected.jsonl  one object per corpus line, in corpus order:
        {"index", "text", "ids", "hf_ids", "decoded", "decoded_skip_special"}
        ids                  tokenizers, add_special_tokens=False
        hf_ids               transformers, add_special_tokens=True (Qwen3 adds no BOS/EOS, so equal to ids)
        decoded              transformers decode(ids)
        decoded_skip_special transformers decode(ids, skip_special_tokens=True)
    OUTDIR/meta.json       library versions, sha256 of tokenizer.json and corpus.jsonl, special token ids,
                           vocabulary sizes.

It asserts the two libraries agree (ids and both decodes) and prints a summary; on disagreement it still
writes the files (with both libraries' values) and exits with status 1.
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
from tokenizers import Tokenizer  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[3]
MODEL_DIR = REPO / "src" / "RaftPipeline.Text" / "Assets" / "Qwen3"
OOV_IDS = [9707, 151935, 11, 999999]


def safe(thunk):
    """The value, or the error's type and message (a decode that raises is a fact to record, too)."""
    try:
        return thunk()
    except Exception as e:  # noqa: BLE001
        return f"error: {type(e).__name__}: {e}"
CORPUS = HERE / "corpus.jsonl"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_corpus(path: Path) -> list[str]:
    # Split on "\n" only: the corpus escapes CR, U+2028 and friends, but str.splitlines would split on more.
    raw = path.read_text(encoding="utf-8")
    lines = raw.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    texts = []
    for number, line in enumerate(lines, start=1):
        value = json.loads(line)
        if not isinstance(value, str):
            raise SystemExit(f"{path}:{number}: expected a JSON string, got {type(value).__name__}")
        texts.append(value)
    return texts


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    out_dir = Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)

    texts = read_corpus(CORPUS)
    fast = Tokenizer.from_file(str(MODEL_DIR / "tokenizer.json"))
    hf = AutoTokenizer.from_pretrained(str(MODEL_DIR), local_files_only=True)

    mismatches = []
    rows = []
    total_tokens = 0
    for index, text in enumerate(texts):
        ids = fast.encode(text, add_special_tokens=False).ids
        hf_ids = hf.encode(text, add_special_tokens=True)
        decoded = hf.decode(ids)
        decoded_skip = hf.decode(ids, skip_special_tokens=True)
        fast_decoded = fast.decode(ids, skip_special_tokens=False)
        fast_decoded_skip = fast.decode(ids, skip_special_tokens=True)
        total_tokens += len(ids)
        row = {
            "index": index,
            "text": text,
            "ids": ids,
            "hf_ids": hf_ids,
            "decoded": decoded,
            "decoded_skip_special": decoded_skip,
        }
        problems = []
        if list(hf_ids) != list(ids):
            problems.append("ids")
        if fast_decoded != decoded:
            problems.append("decode")
            row["tokenizers_decoded"] = fast_decoded
        if fast_decoded_skip != decoded_skip:
            problems.append("decode(skip_special_tokens=True)")
            row["tokenizers_decoded_skip_special"] = fast_decoded_skip
        if problems:
            mismatches.append((index, text, problems))
        rows.append(row)

    with open(out_dir / "expected.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            # ensure_ascii keeps every line free of raw CR/U+2028 so line readers split it as written.
            f.write(json.dumps(row, ensure_ascii=True) + "\n")

    meta = {
        "tokenizers_version": tokenizers.__version__,
        "transformers_version": transformers.__version__,
        "tokenizer_json_sha256": sha256(MODEL_DIR / "tokenizer.json"),
        "tokenizer_config_json_sha256": sha256(MODEL_DIR / "tokenizer_config.json"),
        "corpus_sha256": sha256(CORPUS),
        "count": len(rows),
        "total_tokens": total_tokens,
        "vocab_size": fast.get_vocab_size(with_added_tokens=False),
        "vocab_size_with_added_tokens": fast.get_vocab_size(with_added_tokens=True),
        "len_transformers_tokenizer": len(hf),
        "eos_token": hf.eos_token,
        "eos_token_id": hf.eos_token_id,
        "pad_token": hf.pad_token,
        "pad_token_id": hf.pad_token_id,
        "bos_token": hf.bos_token,
        "bos_token_id": hf.bos_token_id,
        "all_special_ids": sorted(hf.all_special_ids),
        "mismatches": [{"index": i, "problems": p} for i, _, p in mismatches],
        # Ids past the vocabulary (a model's embedding is often padded beyond it, e.g. 151,936 rows for 151,669
        # tokens): what both libraries decode them to.
        "out_of_vocabulary_decode_ids": OOV_IDS,
        "out_of_vocabulary_decode": {"tokenizers": safe(lambda: fast.decode(OOV_IDS, skip_special_tokens=False)),
                                     "transformers": safe(lambda: hf.decode(OOV_IDS))},
    }
    with open(out_dir / "meta.json", "w", encoding="utf-8", newline="\n") as f:
        json.dump(meta, f, ensure_ascii=True, indent=2)
        f.write("\n")

    print(f"tokenizers {tokenizers.__version__}, transformers {transformers.__version__}")
    print(f"{len(rows)} strings, {total_tokens} tokens, written to {out_dir / 'expected.jsonl'} and meta.json")
    if mismatches:
        print(f"DISAGREEMENT between tokenizers and transformers on {len(mismatches)} strings:")
        for index, text, problems in mismatches[:20]:
            print(f"  line {index + 1}: {', '.join(problems)}: {text[:60]!r}")
        return 1
    print("tokenizers and transformers agree on every string (ids, decode, decode skipping special tokens)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
