#!/usr/bin/env python3
"""Reference chat-template renderings from transformers' own apply_chat_template(tokenize=False).

Usage (from the repository root, no network needed):
    python tests/RaftPipeline.Text.Tests/Fixtures/chat_templates/generate.py OUTDIR

Writes OUTDIR/expected.jsonl (one JSON object per case, in a stable order) and OUTDIR/expected_meta.json
(library versions). Each case line holds:
    id, model, template (file name under templates/, or null for the model folder's own template),
    conversation (file name under conversations/), add_generation_prompt, kwargs (extra template variables),
    and either "output" (the rendered string) or "error" + "error_type" (what apply_chat_template raised).

Models:
    qwen3           src/RaftPipeline.Text/Assets/Qwen3 as committed (its own chat_template string)
    bos_model       models/bos_model: special tokens as strings and AddedToken objects, and a chat_template.jinja
                    that must win over tokenizer_config.json's chat_template
    named_templates models/named_templates: chat_template as a list of {name, template} ("default", "tool_use")
Fixture model folders carry only tokenizer_config.json (+ chat_template.jinja); tokenizer.json is copied from
the Qwen3 assets into a temporary folder so that AutoTokenizer can load them.
"""
import json
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = Path.cwd()
QWEN3 = REPO / "src" / "RaftPipeline.Text" / "Assets" / "Qwen3"

# Template variables beyond messages/tools/documents/add_generation_prompt, each rendered separately.
KWARG_VARIANTS = [
    {},
    {"enable_thinking": False},
    {"enable_thinking": True},
    {"date_string": "24 Nov 2026", "custom_flag": "on"},
]


def read_exact(path: Path) -> str:
    # newline="" keeps CRLF files byte for byte; jinja itself normalises line endings.
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def load_conversation(path: Path):
    data = json.loads(read_exact(path))
    if isinstance(data, list):
        return data, None, None
    return data["messages"], data.get("tools"), data.get("documents")


def cases():
    """(model, template file or None, conversation file) in a stable order."""
    templates = sorted(p.name for p in (HERE / "templates").glob("*.jinja"))
    conversations = sorted(p.name for p in (HERE / "conversations").glob("*.json"))
    for model in ["qwen3", "bos_model", "named_templates"]:
        for conv in conversations:
            yield model, None, conv
    for template in templates:
        models = ["qwen3", "bos_model", "named_templates"] if template == "special_tokens.jinja" else ["bos_model"]
        for model in models:
            for conv in conversations:
                yield model, template, conv


def prepare_models(tmp: Path) -> dict:
    folders = {"qwen3": QWEN3}
    for name in ["bos_model", "named_templates"]:
        target = tmp / name
        shutil.copytree(HERE / "models" / name, target)
        shutil.copy(QWEN3 / "tokenizer.json", target / "tokenizer.json")
        folders[name] = target
    return folders


def main(out_dir: str) -> None:
    import jinja2
    import transformers
    from transformers import AutoTokenizer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folders = prepare_models(Path(tmp))
        tokenizers = {name: AutoTokenizer.from_pretrained(str(path)) for name, path in folders.items()}
        count = errors = 0
        with open(out / "expected.jsonl", "w", encoding="utf-8", newline="\n") as f:
            for model, template, conv in cases():
                messages, tools, documents = load_conversation(HERE / "conversations" / conv)
                chat_template = read_exact(HERE / "templates" / template) if template else None
                for agp in [False, True]:
                    for kwargs in KWARG_VARIANTS:
                        case_id = f"{model}|{template or '(model)'}|{conv}|agp={agp}|{json.dumps(kwargs, sort_keys=True)}"
                        record = {"id": case_id, "model": model, "template": template, "conversation": conv,
                                  "add_generation_prompt": agp, "kwargs": kwargs}
                        try:
                            text = tokenizers[model].apply_chat_template(
                                json.loads(json.dumps(messages)),  # a fresh copy: templates must not see edits
                                chat_template=chat_template,
                                tools=tools,
                                documents=documents,
                                add_generation_prompt=agp,
                                tokenize=False,
                                **kwargs,
                            )
                            if not isinstance(text, str):
                                raise SystemExit(f"{case_id}: apply_chat_template returned {type(text)}, not str")
                            record["output"] = text
                        except Exception as e:  # recorded, not hidden: the C# side must fail the same way
                            record["error_type"] = type(e).__name__
                            record["error_is_template_error"] = isinstance(e, jinja2.exceptions.TemplateError)
                            record["error"] = str(e)
                            errors += 1
                        f.write(json.dumps(record, ensure_ascii=False) + "\n")
                        count += 1
    meta = {"transformers": transformers.__version__, "jinja2": jinja2.__version__, "cases": count,
            "errors": errors, "python": sys.version.split()[0]}
    (out / "expected_meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {count} cases ({errors} errors) to {out / 'expected.jsonl'}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: generate.py OUTDIR   (run from the repository root)")
    if not QWEN3.is_dir():
        raise SystemExit(f"{QWEN3} not found: run from the repository root")
    main(sys.argv[1])
