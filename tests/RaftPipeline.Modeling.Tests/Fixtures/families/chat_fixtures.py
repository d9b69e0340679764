"""Tokenizer, chat template and stop tokens for the tiny family models, and transformers' reference for them.

Two commands (from the repository root):

    python tests/RaftPipeline.Modeling.Tests/Fixtures/families/chat_fixtures.py write CASE_DIR [CASE_DIR ...]
        Plain Python (json only; runs anywhere). Writes into each CASE_DIR/model/ (a folder generate.py made):
          tokenizer.json          a 256-token SentencePiece-style BPE (the model's whole vocabulary: every id the
                                  random model can emit decodes), built here from the characters of TRAINING_TEXT and
                                  merges learned on it; the family's special tokens at fixed ids (0 pad, 1 bos, 255 eos
                                  as the tiny configs have them, the turn markers at 250-254)
          tokenizer_config.json   the named special tokens and the family's chat template: ours, written in that
                                  family's style (tests/RaftPipeline.Text.Tests/Fixtures/chat_templates/templates/:
                                  llama3, mistral, gemma, chatml for Qwen3-MoE; PHI3_TEMPLATE below for Phi-3)
          generation_config.json  eos_token_id as the family's instruct models list them (Llama 3.1: end_of_text,
                                  eom, eot; Gemma: eos, end_of_turn; Phi-3.5: endoftext, assistant, end; Mistral: eos)
        The tokenizer shape is the same for every family (the families' own tokenizer algorithms are proven in
        tests/RaftPipeline.Text.Tests/Fixtures/tokenizer_families); what differs per family is what chat needs: the
        template, the special tokens and the ids that end an answer.

    python tests/RaftPipeline.Modeling.Tests/Fixtures/families/chat_fixtures.py prompts OUT.json CASE_DIR [...]
        jinja2 only (runs anywhere): the prompt of each conversation below (and of the first 12 probes) rendered by jinja2 in the
        environment transformers' apply_chat_template builds. Committed as chat_prompts.json.

    python tests/RaftPipeline.Modeling.Tests/Fixtures/families/chat_fixtures.py reference OUT.json CASE_DIR [...]
        On the GPU machine (transformers 5.17, tokenizers; CPU, fp32, eager). For each case and each conversation of
        CONVERSATIONS: AutoTokenizer.apply_chat_template(add_generation_prompt=True) as text and as ids, the ids
        tokenizers.Tokenizer.from_file gives for that text, and generate() from those ids (greedy, MAX_NEW tokens, the
        folder's generation_config: its eos ids end generation). Then, to see generation end on a stop token, the first
        of PROBES (one-turn conversations) whose greedy answer ends on one of the eos ids before MAX_NEW tokens, if any.
"""
import json
import os
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = os.path.join(HERE, "..", "..", "..", "RaftPipeline.Text.Tests", "Fixtures", "chat_templates", "templates")
VOCAB = 256
MAX_NEW = 24
META = "\u2581"  # SentencePiece's word-boundary mark

# family -> (template file, {id: special token}, tokenizer_config names, generation_config eos ids, dummy prefix)
FAMILIES = {
    "llama3": ("llama3.jinja",
               {0: "<|finetune_right_pad_id|>", 1: "<|begin_of_text|>", 2: "<unk>", 251: "<|end_header_id|>",
                252: "<|start_header_id|>", 253: "<|eom_id|>", 254: "<|eot_id|>", 255: "<|end_of_text|>"},
               {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "pad_token": "<|finetune_right_pad_id|>",
                "unk_token": "<unk>"},
               [255, 253, 254], False),
    "mistral": ("mistral.jinja",
                {0: "<unk>", 1: "<s>", 253: "[/INST]", 254: "[INST]", 255: "</s>"},
                {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
                [255], True),
    "phi3": (None,
             {0: "<unk>", 1: "<s>", 250: "</s>", 251: "<|system|>", 252: "<|user|>", 253: "<|assistant|>", 254: "<|end|>",
              255: "<|endoftext|>"},
             {"bos_token": "<s>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "unk_token": "<unk>"},
             [255, 253, 254], True),
    "gemma": ("gemma.jinja",
              {0: "<pad>", 1: "<bos>", 2: "<unk>", 253: "<end_of_turn>", 254: "<start_of_turn>", 255: "<eos>"},
              {"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>", "unk_token": "<unk>"},
              [255, 253], False),
    # Qwen's ChatML turns (Qwen3-MoE): no bos, <|im_end|> ends a turn, and the instruct models' generation_config
    # lists <|im_end|> and <|endoftext|>.
    "chatml": ("chatml.jinja",
               {0: "<pad>", 1: "<bos>", 2: "<unk>", 253: "<|im_start|>", 254: "<|im_end|>", 255: "<|endoftext|>"},
               {"eos_token": "<|im_end|>", "pad_token": "<pad>", "unk_token": "<unk>"},
               [254, 255], False),
}
# Phi-3's shape, written here: phi.jinja (the Jinja tests' template) puts a newline after the generation prompt, so its
# prompt is not a prefix of the answered conversation, which a chat model's template is (the eval stage relies on it).
PHI3_TEMPLATE = (
    "{%- for m in messages -%}"
    "{%- if m['role'] in ['system', 'user', 'assistant'] -%}"
    "{{ '<|' + m['role'] + '|>\n' + m['content'] + '<|end|>\n' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|assistant|>\n' }}{%- else -%}{{ eos_token }}{%- endif -%}"
)

CASE_FAMILY = {"llama3": "llama3", "mistral": "mistral", "phi3": "phi3", "phi3_longrope": "phi3", "gemma2": "gemma",
               "gemma3_text": "gemma", "qwen3_moe": "chatml"}

TRAINING_TEXT = """
You are a helpful assistant. Answer the question from the document only, and say so when it is not there.
The user asks about the weather, the model answers with what the document says. Today Date: 01 Jan 2026.
What is the capital of France? Paris is the capital and the largest city of France.
Fine-tuning adds small matrices to each projection of the model; the base weights stay frozen.
The quick brown fox jumps over the lazy dog. She said that they will finish the report on Friday.
system user assistant model tool: the answer is in the second section of the document, on page 12.
Hello! How are you today? I am fine, thank you. Tell me a short story about a cat and a dog.
"""

CONVERSATIONS = {
    "user": [{"role": "user", "content": "What is the capital of France?"}],
    "system_user": [{"role": "system", "content": "You are a helpful assistant."},
                    {"role": "user", "content": "Tell me a short story."}],
    "multi_turn": [{"role": "user", "content": "Hello!"}, {"role": "assistant", "content": "Hi, how are you?"},
                   {"role": "user", "content": "Fine, thank you. And the weather?"}],
}
# One-turn conversations tried in this order (first word, object, ending) until one's greedy answer ends on a stop id.
PROBES = [f"{a} {b}{c}"
          for a in ["Hello", "Tell me", "What is", "Answer", "Say", "Write", "Explain", "Read", "Find", "Give me", "Show", "Name"]
          for b in ["the document.", "a story.", "the weather?", "the capital of France.", "something short.",
                    "a cat and a dog", "the report", "page 12", "Friday", "the model"]
          for c in ["", " Please.", " Now!"]]


def base_alphabet():
    chars = [META, "\n"] + [chr(c) for c in range(33, 127)]
    return chars


def learn_merges(text, budget, prefix):
    """Greedy BPE on TRAINING_TEXT's words (each starting with the boundary mark): the most frequent pair first, ties
    broken by the pair's text, until `budget` merges."""
    normalized = (META if prefix else "") + text.replace(" ", META)
    words = Counter()
    for line in normalized.split("\n"):
        for piece in line.split(META):
            if piece:
                words[tuple(META + piece)] += 1
    merges = []
    while len(merges) < budget:
        pairs = Counter()
        for word, n in words.items():
            for a, b in zip(word, word[1:]):
                pairs[(a, b)] += n
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p[0] + p[1], p))
        merges.append(best)
        merged = {}
        for word, n in words.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(word[i] + word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            merged[tuple(out)] = merged.get(tuple(out), 0) + n
        words = Counter(merged)
    return merges


def tokenizer_json(specials, prefix):
    free = [i for i in range(VOCAB) if i not in specials]
    alphabet = [c for c in base_alphabet() if c not in specials.values()]
    merges = learn_merges(TRAINING_TEXT, len(free) - len(alphabet), prefix)
    pieces = alphabet + [a + b for a, b in merges]
    assert len(pieces) == len(free) and len(set(pieces)) == len(pieces), (len(pieces), len(free))
    vocab = {tok: i for i, tok in specials.items()}
    vocab.update({p: free[k] for k, p in enumerate(pieces)})
    vocab = dict(sorted(vocab.items(), key=lambda kv: kv[1]))
    normalizers = ([{"type": "Prepend", "prepend": META}] if prefix else []) + [
        {"type": "Replace", "pattern": {"String": " "}, "content": META}]
    decoders = [{"type": "Replace", "pattern": {"String": META}, "content": " "}, {"type": "Fuse"}]
    if prefix:
        decoders.append({"type": "Strip", "content": " ", "start": 1, "stop": 0})
    bos = specials[1]
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for i, t in sorted(specials.items())],
        "normalizer": {"type": "Sequence", "normalizers": normalizers},
        "pre_tokenizer": None,
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                           "pair": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                    {"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 0}}],
                           "special_tokens": {bos: {"id": bos, "ids": [1], "tokens": [bos]}}},
        "decoder": {"type": "Sequence", "decoders": decoders},
        "model": {"type": "BPE", "dropout": None, "unk_token": next(t for t in specials.values() if t == "<unk>"),
                  "continuing_subword_prefix": None, "end_of_word_suffix": None, "fuse_unk": True,
                  "byte_fallback": False, "ignore_merges": False, "vocab": vocab,
                  "merges": [[a, b] for a, b in merges]},
    }


def write(case_dir):
    case = os.path.basename(os.path.normpath(case_dir))
    family = CASE_FAMILY[case]
    template_file, specials, names, eos_ids, prefix = FAMILIES[family]
    model = os.path.join(case_dir, "model")
    if template_file is None:
        template = PHI3_TEMPLATE
    else:
        with open(os.path.join(TEMPLATES, template_file), encoding="utf-8") as f:
            template = f.read()
    with open(os.path.join(model, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(specials, prefix), f, ensure_ascii=False, indent=1)
        f.write("\n")
    config = dict(names, add_bos_token=False, add_eos_token=False, clean_up_tokenization_spaces=False,
                  model_max_length=4096, tokenizer_class="PreTrainedTokenizerFast", chat_template=template)
    with open(os.path.join(model, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False, indent=1)
        f.write("\n")
    gen_path = os.path.join(model, "generation_config.json")
    gen = {"bos_token_id": 1, "pad_token_id": 0}
    if os.path.exists(gen_path):  # keep what transformers wrote, change only the eos ids
        with open(gen_path, encoding="utf-8") as f:
            gen = json.load(f)
    gen["eos_token_id"] = eos_ids
    gen["_from_model_config"] = False  # ours now: generate() must not rebuild it from config.json's single eos id
    with open(gen_path, "w", encoding="utf-8") as f:
        json.dump(gen, f, indent=2)
        f.write("\n")
    print(f"{case}: tokenizer ({family}), template {template_file or 'PHI3_TEMPLATE'}, eos {eos_ids}")


def prompts(out_path, case_dirs):
    """The prompts of CONVERSATIONS and PROBES rendered by jinja2 itself, in the environment transformers' apply_chat_template
    builds (chat_template_utils._compile_jinja_template: an ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks
    and loopcontrols, its own tojson filter, raise_exception and strftime_now; variables messages, tools=None,
    documents=None, add_generation_prompt and the tokenizer's special tokens)."""
    from datetime import datetime

    import jinja2
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    result = {"jinja2": jinja2.__version__, "cases": {}}
    for case_dir in case_dirs:
        case = os.path.basename(os.path.normpath(case_dir))
        with open(os.path.join(case_dir, "model", "tokenizer_config.json"), encoding="utf-8") as f:
            config = json.load(f)
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
        env.filters["tojson"] = tojson
        env.globals["raise_exception"] = raise_exception
        env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
        template = env.from_string(config["chat_template"])
        special = {k: config[k] for k in ("bos_token", "eos_token", "unk_token", "pad_token") if k in config}
        conversations = dict(CONVERSATIONS)
        conversations.update({f"probe {p}": [{"role": "user", "content": p}] for p in PROBES[:12]})
        result["cases"][case] = {
            name: {"messages": messages,
                   "text": template.render(messages=messages, tools=None, documents=None, add_generation_prompt=True, **special)}
            for name, messages in conversations.items()}
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, indent=1)
        f.write("\n")


def reference(out_path, case_dirs):
    import tokenizers
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    result = {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__, "torch": torch.__version__,
              "max_new_tokens": MAX_NEW, "cases": {}}
    for case_dir in case_dirs:
        case = os.path.basename(os.path.normpath(case_dir))
        model_dir = os.path.join(case_dir, "model")
        try:
            tok = AutoTokenizer.from_pretrained(model_dir)
            raw = tokenizers.Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
            model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager").eval()
            eos = model.generation_config.eos_token_id
            entry = {"tokenizer_class": type(tok).__name__, "generation_eos": eos, "conversations": {}}

            def run(messages):
                text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
                ids = tok.apply_chat_template(messages, tokenize=True, add_generation_prompt=True)
                if hasattr(ids, "keys"):
                    ids = ids["input_ids"]
                ids = [int(i) for i in (ids[0] if ids and isinstance(ids[0], list) else ids)]
                with torch.no_grad():
                    out = model.generate(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                         do_sample=False, max_new_tokens=MAX_NEW)
                new = [int(i) for i in out[0, len(ids):]]
                return {"messages": messages, "text": text, "ids": ids,
                        "tokenizers_ids": raw.encode(text, add_special_tokens=False).ids,
                        "generated": new, "generated_text": tok.decode(new, skip_special_tokens=True)}

            for name, messages in CONVERSATIONS.items():
                entry["conversations"][name] = run(messages)
            eos_set = set(eos if isinstance(eos, list) else [eos])
            for probe in PROBES:
                r = run([{"role": "user", "content": probe}])
                if r["generated"] and r["generated"][-1] in eos_set and len(r["generated"]) < MAX_NEW:
                    entry["stop_probe"] = r
                    break
            result["cases"][case] = entry
            print(case, "ok:", entry["tokenizer_class"], "eos", eos, "stop probe:",
                  entry.get("stop_probe", {}).get("messages"), entry.get("stop_probe", {}).get("generated"))
        except Exception:
            import traceback
            result["cases"][case] = {"error": traceback.format_exc()}
            print(case, "FAILED\n", result["cases"][case]["error"])
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, indent=1)
    sys.exit(1 if any("error" in e for e in result["cases"].values()) else 0)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "write":
        for d in sys.argv[2:]:
            write(d)
    elif len(sys.argv) >= 4 and sys.argv[1] == "prompts":
        prompts(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) >= 4 and sys.argv[1] == "reference":
        reference(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)
