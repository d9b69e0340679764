"""Reference learning rates from transformers' own schedulers, for LrScheduleTests.

Usage: python generate.py OUTDIR   -> OUTDIR/expected.json

For each case it builds a one-parameter torch optimizer, asks transformers.get_scheduler for the
schedule, and records the learning rate the optimizer actually applies at every optimizer step
(0 .. total-1) plus the value after the last step (what Trainer logs as `learning_rate` after step k is
the lr of step k, i.e. lrs[k]). Warmup steps come from TrainingArguments.get_warmup_steps so the
ratio rounding (math.ceil(total * ratio), with its float artefacts: 100 * 0.07 = 7.000000000000001 -> 8)
is transformers' own, not ours.
"""
import json
import math
import os
import sys
import tempfile

import torch
import transformers
from transformers import TrainingArguments, get_scheduler

CASES = [
    # (scheduler, total optimizer steps, warmup given as ratio (<1) or int steps, base lr)
    ("cosine", 100, 0.03, 2e-4),
    ("cosine", 100, 0.07, 2e-4),
    ("cosine", 10, 0.1, 2e-4),
    ("cosine", 7, 0.5, 1e-3),
    ("cosine", 1, 0.1, 2e-4),
    ("cosine", 50, 0, 5e-5),
    ("cosine", 37, 0.05, 3e-4),
    ("cosine", 1000, 0.03, 2e-4),
    ("linear", 100, 0.03, 2e-4),
    ("linear", 13, 5, 1e-4),
    ("linear", 9, 0, 1e-4),
    ("constant_with_warmup", 20, 0.25, 1e-4),
    ("constant_with_warmup", 6, 3, 1e-4),
    ("constant", 5, 0, 1e-4),
]


def warmup_steps_for(total, warmup):
    """transformers' own resolution of a warmup ratio / step count."""
    out = tempfile.mkdtemp()
    if isinstance(warmup, float) and 0 < warmup < 1:
        try:
            # transformers >= 5: warmup_steps takes a float < 1 as a ratio (warmup_ratio was removed).
            args = TrainingArguments(output_dir=out, warmup_steps=warmup, report_to=[])
        except (TypeError, ValueError):
            args = TrainingArguments(output_dir=out, warmup_ratio=warmup, report_to=[])
    else:
        args = TrainingArguments(output_dir=out, warmup_steps=int(warmup), report_to=[])
    return int(args.get_warmup_steps(total))


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    cases = []
    for name, total, warmup, lr in CASES:
        warm = warmup_steps_for(total, warmup)
        param = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([param], lr=lr)
        kwargs = {}
        if name != "constant":
            kwargs["num_warmup_steps"] = warm
        if name in ("cosine", "linear"):
            kwargs["num_training_steps"] = total
        sched = get_scheduler(name, optimizer=opt, **kwargs)
        lrs = []
        for _ in range(total):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        lrs.append(opt.param_groups[0]["lr"])
        cases.append({
            "scheduler": name,
            "total_steps": total,
            "warmup_ratio": warmup if isinstance(warmup, float) and 0 < warmup < 1 else None,
            "warmup_steps_given": warmup if not (isinstance(warmup, float) and 0 < warmup < 1) else None,
            "warmup_steps": warm,
            "base_lr": lr,
            "lrs": lrs,
        })
    with open(os.path.join(outdir, "expected.json"), "w") as f:
        json.dump({
            "generator": "tests/RaftPipeline.Training.Tests/Fixtures/schedules/generate.py",
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "cases": cases,
        }, f, indent=1)


if __name__ == "__main__":
    main()
