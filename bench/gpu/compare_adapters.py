"""Compares two train artifacts (adapter + metrics.jsonl) and prints one JSON line.
usage: python3 bench/gpu/compare_adapters.py NAME REFERENCE_DIR CANDIDATE_DIR [EXTRA_JSON]
"""
import json, sys
from pathlib import Path

from safetensors.torch import load_file


def losses(d):
    rows = [json.loads(l) for l in (Path(d) / "metrics.jsonl").read_text().splitlines() if l.strip()]
    return [r["loss"] for r in rows if r.get("loss") is not None]


def main():
    name, ref, cand = sys.argv[1:4]
    extra = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    a = load_file(str(Path(ref) / "adapter_model.safetensors"))
    b = load_file(str(Path(cand) / "adapter_model.safetensors"))
    assert a.keys() == b.keys(), "adapters have different tensors"
    worst_abs = max((a[k].float() - b[k].float()).abs().max().item() for k in a)
    scale = max(a[k].float().abs().max().item() for k in a)
    la, lb = losses(ref), losses(cand)
    rel = [abs(x - y) / abs(x) for x, y in zip(la, lb) if x]
    summary = json.loads((Path(cand) / "train_summary.json").read_text())
    out = dict(check=name, adapter_max_abs_diff=worst_abs, adapter_max_abs=scale,
               bitwise_equal=all((a[k] == b[k]).all().item() for k in a),
               logged_losses_reference=la, logged_losses_candidate=lb,
               loss_max_rel_diff=max(rel) if rel else None,
               world_size=summary.get("world_size"), effective_batch_size=summary.get("effective_batch_size"),
               runtime_seconds=summary.get("runtime_seconds"), tokens_seen=summary.get("tokens_seen"))
    out.update(extra)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
