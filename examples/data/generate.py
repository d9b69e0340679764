#!/usr/bin/env python3
"""Builds RAG_Data_full.csv and RAG_Data_full_neg.csv (cp949, as the notebook loads them) from source/*.jsonl.

Each source line is one paragraph written for this project:
  {"id": "sci-01", "context": "...", "qa": [[question, quote, rude], ...], "neg": [question, ...]}
- qa: questions the paragraph answers. The answer (cot) is composed in the recipe's style:
      그것도 몰라? 여기 "<quote>"라고 나와 있잖아. <rude>
  where <quote> must be a verbatim span of the context and <rude> a one-line rude summary.
- neg: questions the paragraph does NOT answer; their cot is exactly the refusal.

Run from anywhere: python3 examples/data/generate.py. Fails (without writing) on any rule broken, naming the line.
Standard library only; output is deterministic (source files by name, lines in order, CRLF like Excel).
"""
import csv
import io
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OPENING = "그것도 몰라?"
REFUSAL = "내가 그딴 걸 어떻게 알아?"
SENTENCE_END = re.compile(r"[.?!](?=\s|$)")


def fail(where, message):
    sys.exit(f"{where}: {message}")


def check_cp949(where, text):
    try:
        text.encode("cp949", errors="strict")
    except UnicodeEncodeError as e:
        fail(where, f"character {text[e.start]!r} (U+{ord(text[e.start]):04X}) is not encodable in cp949")


def build():
    positives, negatives, ids = [], [], set()
    for path in sorted((HERE / "source").glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path.relative_to(HERE)}:{number}"
            item = json.loads(line)
            pid, context = item["id"], item["context"]
            if pid in ids:
                fail(where, f"duplicate id {pid}")
            ids.add(pid)
            sentences = len(SENTENCE_END.findall(context))
            if not 3 <= sentences <= 6:
                fail(where, f"{pid}: context has {sentences} sentences, expected 3 to 6")
            if '"' in context:
                fail(where, f"{pid}: context contains a double quote; answers quote spans with them")
            check_cp949(where, context)
            for question, quote, rude in item.get("qa", []):
                if quote not in context:
                    fail(where, f"{pid}: quote is not a verbatim span of the context: {quote}")
                if '"' in quote or "\n" in rude:
                    fail(where, f"{pid}: quote must not contain a double quote, the summary must be one line")
                cot = f'{OPENING} 여기 "{quote}"라고 나와 있잖아. {rude}'
                for text in (question, cot):
                    check_cp949(where, text)
                positives.append((context, question, cot))
            for question in item.get("neg", []):
                check_cp949(where, question)
                negatives.append((context, question, REFUSAL))
    return positives, negatives


def write(path, rows):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(["context", "question", "cot"])
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("cp949", errors="strict"))


if __name__ == "__main__":
    positives, negatives = build()
    write(HERE / "RAG_Data_full.csv", positives)
    write(HERE / "RAG_Data_full_neg.csv", negatives)
    print(f"RAG_Data_full.csv: {len(positives)} rows; RAG_Data_full_neg.csv: {len(negatives)} rows")
