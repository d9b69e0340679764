#!/usr/bin/env bash
# GPU-machine run (repository root; transformers 5.17, peft, tokenizers; everything on its CPU): the phi3_longrope case of
# generate.py, its tokenizer/template/eos ids (chat_fixtures.py write), and transformers' chat reference for every family
# folder that has a tokenizer (chat_fixtures.py reference). Everything comes back under $OUT:
#   phi3_longrope.tar.gz   the phi3_longrope/ case folder (model with tokenizer, adapter, trained, expected, info)
#   chat_reference.json    apply_chat_template text and ids, tokenizers' ids, greedy answers, stop probes per case
#   generate.log, chat.log
F=tests/RaftPipeline.Modeling.Tests/Fixtures/families
W=$(mktemp -d)
FAMILIES=phi3_longrope python3 "$F/generate.py" "$W" > "$OUT/generate.log" 2>&1 || echo "generate.py exited $?" >> "$OUT/generate.log"
python3 "$F/chat_fixtures.py" write "$W/phi3_longrope" >> "$OUT/generate.log" 2>&1 || echo "chat_fixtures write exited $?" >> "$OUT/generate.log"
python3 "$F/chat_fixtures.py" reference "$OUT/chat_reference.json" "$F/llama3" "$F/mistral" "$F/phi3" "$F/gemma2" "$F/gemma3_text" \
  "$W/phi3_longrope" > "$OUT/chat.log" 2>&1 || echo "chat_fixtures reference exited $?" >> "$OUT/chat.log"
tar -czf "$OUT/phi3_longrope.tar.gz" -C "$W" phi3_longrope
tail -40 "$OUT/generate.log"
tail -30 "$OUT/chat.log"
