"""Reference run of the Python trainer stack for TrainerParityTests (issue 5 item 8).

Usage: python generate.py OUTDIR      (normally OUTDIR = this script's own folder)
Needs torch, transformers, peft (no trl, no network). Runs on CPU in fp32 with eager attention and one thread,
so the numbers do not depend on the GPU or the thread count.

Writes (7 files, well under 2 MB):
  model/config.json, model/generation_config.json, model/model.safetensors
      a tiny Qwen3 (vocab 128, hidden 32, 2 layers, 4 heads / 2 KV heads, head_dim 16, tied embeddings) with
      fixed random weights (seeded; norm weights random too), saved in fp32 by save_pretrained
  adapter/adapter_config.json, adapter/adapter_model.safetensors
      a peft LoRA adapter (r=4, alpha=8, dropout 0, q,k,v,o,gate,up,down) whose lora_A AND lora_B were overwritten
      with seeded non-zero values, so both trainers start from the same non-trivial adapter (peft's README.md is
      removed: it is not needed and keeps the file count down)
  rows.json
      the hand-written token-id rows, the response template, pad id, max_seq_length, and every training setting
  expected.json
      per optimizer step: the rows of the batch, the supervised-token count, the loss (transformers' causal-LM loss:
      mean over the supervised tokens of the batch), the lr the optimizer applied, the lr after the scheduler step
      (what HF Trainer logs), the pre-clip global grad norm (clip_grad_norm_'s return); and the final adapter
      weights (peft's state-dict keys, flattened fp32 values) plus per-tensor sums.

The training loop is written out by hand (no HF Trainer, no TRL) to pin down exactly what is compared:
  labels: completion-only as our CompletionOnlyCollator does it (and as TRL does for a single template):
    truncate right to max_seq_length; find the LAST occurrence of the template id sequence; -100 up to and
    including it; padding (right, pad id = eos) masked by POSITION, so the closing eos of an answer is supervised.
  data order: fixed (no shuffle), batches of 2 rows; the last batch of an epoch has 1 row (11 rows); epochs repeat
    until max_steps optimizer steps are done (gradient accumulation 1).
  optimizer: torch.optim.AdamW(lr, betas (0.9, 0.999), eps 1e-8, weight_decay 0, foreach False: the single-tensor
    path our AdamW mirrors); schedule: transformers.get_cosine_schedule_with_warmup(warmup 3, total max_steps);
    clipping: torch.nn.utils.clip_grad_norm_(max_norm 1.0).
"""
import json
import os
import sys

import torch
import transformers
import peft
from peft import LoraConfig, get_peft_model
from peft.utils import get_peft_model_state_dict
from transformers import AutoModelForCausalLM, Qwen3Config, Qwen3ForCausalLM, get_cosine_schedule_with_warmup

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
VOCAB = 128
BOS = 1
PAD = 2            # = eos, as the notebook sets pad = eos (<|im_end|> for Qwen3)
TEMPLATE = [5, 6]  # plays <|im_start|> assistant
MAX_SEQ_LENGTH = 20
SETTINGS = {
    "batch_size": 2,
    "gradient_accumulation_steps": 1,
    "max_steps": 20,
    "learning_rate": 1e-3,
    "schedule": "cosine",
    "warmup_steps": 3,
    "max_grad_norm": 1.0,
    "adam_beta1": 0.9,
    "adam_beta2": 0.999,
    "adam_epsilon": 1e-8,
    "weight_decay": 0.0,
    "shuffle": False,
    "lora_r": 4,
    "lora_alpha": 8,
    "lora_dropout": 0.0,
}

# "[1] question... [5 6] answer... [2]"; varied lengths so batches need padding.
ROWS = [
    [1, 10, 11, 12, 5, 6, 40, 41, 42, 2],
    [1, 13, 14, 5, 6, 43, 44, 2],
    [1, 15, 16, 17, 18, 19, 5, 6, 45, 46, 47, 48, 49, 2],
    [1, 20, 5, 6, 50, 2],
    [1, 21, 22, 23, 5, 6, 51, 52, 53, 54, 2],
    # multi-turn: only the LAST template's answer is supervised (TRL's single-template collator does the same)
    [1, 24, 25, 5, 6, 55, 56, 2, 26, 27, 5, 6, 57, 58, 59, 2],
    [1, 28, 29, 30, 31, 5, 6, 60, 61, 2],
    # longer than max_seq_length: truncated on the right, the kept part of the answer is supervised
    [1, 32, 33, 34, 35, 36, 37, 38, 5, 6, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71, 72, 73, 74, 2],
    [1, 39, 5, 6, 75, 76, 77, 78, 79, 80, 81, 2],
    [1, 82, 83, 84, 5, 6, 85, 2],
    [1, 86, 87, 5, 6, 88, 89, 90, 91, 2],
]


def label(ids):
    ids = ids[:MAX_SEQ_LENGTH]
    labels = [-100] * len(ids)
    start = -1
    for s in range(len(ids) - len(TEMPLATE), -1, -1):
        if ids[s:s + len(TEMPLATE)] == TEMPLATE:
            start = s
            break
    if start >= 0:
        for i in range(start + len(TEMPLATE), len(ids)):
            labels[i] = ids[i]
    return ids, labels


def collate(rows):
    width = max(len(ids) for ids, _ in rows)
    input_ids, mask, labels = [], [], []
    for ids, lab in rows:
        pad = width - len(ids)
        input_ids.append(ids + [PAD] * pad)
        mask.append([1] * len(ids) + [0] * pad)
        labels.append(lab + [-100] * pad)   # padding masked by position
    return (torch.tensor(input_ids, dtype=torch.long), torch.tensor(mask, dtype=torch.long),
            torch.tensor(labels, dtype=torch.long))


def build_model(model_dir):
    torch.manual_seed(20261124)
    config = Qwen3Config(
        vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=128,
        rms_norm_eps=1e-6, tie_word_embeddings=True, attention_bias=False,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        bos_token_id=BOS, eos_token_id=PAD, pad_token_id=PAD,
    )
    model = Qwen3ForCausalLM(config)
    # Overwrite every weight in a fixed order, independent of transformers' own init: std 0.1 matrices (larger than
    # the 0.02 default so the loss is not just log(vocab)), norm weights 1 + 0.1·N(0, 1).
    with torch.no_grad():
        for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            else:
                p.copy_(0.1 * torch.randn_like(p))
    model.to(torch.float32).save_pretrained(model_dir, safe_serialization=True)


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    model_dir = os.path.join(outdir, "model")
    adapter_dir = os.path.join(outdir, "adapter")
    build_model(model_dir)

    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager")
    lora = LoraConfig(r=SETTINGS["lora_r"], lora_alpha=SETTINGS["lora_alpha"], lora_dropout=SETTINGS["lora_dropout"],
                      target_modules=TARGETS, bias="none", task_type="CAUSAL_LM")
    model = get_peft_model(base, lora)
    # Deterministic non-zero A and B (peft's default B = 0 would make the first gradients of A zero).
    gen = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
            if "lora_A" in name:
                p.copy_((torch.rand(p.shape, generator=gen) * 2 - 1) * 0.2)
            elif "lora_B" in name:
                p.copy_((torch.rand(p.shape, generator=gen) * 2 - 1) * 0.1)
    model.save_pretrained(adapter_dir, safe_serialization=True)
    readme = os.path.join(adapter_dir, "README.md")
    if os.path.exists(readme):
        os.remove(readme)
    model.print_trainable_parameters()

    labelled = [label(r) for r in ROWS]
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=SETTINGS["learning_rate"],
                            betas=(SETTINGS["adam_beta1"], SETTINGS["adam_beta2"]),
                            eps=SETTINGS["adam_epsilon"], weight_decay=SETTINGS["weight_decay"], foreach=False)
    sched = get_cosine_schedule_with_warmup(opt, num_warmup_steps=SETTINGS["warmup_steps"],
                                            num_training_steps=SETTINGS["max_steps"])
    bs = SETTINGS["batch_size"]
    batches = [list(range(i, min(i + bs, len(ROWS)))) for i in range(0, len(ROWS), bs)]

    model.train()
    steps = []
    for step in range(SETTINGS["max_steps"]):
        idx = batches[step % len(batches)]
        input_ids, mask, labels = collate([labelled[i] for i in idx])
        out = model(input_ids=input_ids, attention_mask=mask, labels=labels)
        loss = out.loss
        # Cross-check transformers' reduction: mean over the supervised (shifted) tokens of the batch.
        shift_logits = out.logits[:, :-1, :].float().reshape(-1, VOCAB)
        shift_labels = labels[:, 1:].reshape(-1)
        supervised = int((shift_labels != -100).sum())
        manual = torch.nn.functional.cross_entropy(shift_logits, shift_labels, ignore_index=-100, reduction="sum") / supervised
        assert abs(manual.item() - loss.item()) <= 1e-6 * abs(loss.item()), (manual.item(), loss.item())
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(trainable, SETTINGS["max_grad_norm"])
        lr = opt.param_groups[0]["lr"]
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        steps.append({
            "step": step + 1,
            "rows": idx,
            "supervised_tokens": supervised,
            "loss": loss.item(),
            "lr": lr,
            "lr_after": opt.param_groups[0]["lr"],
            "grad_norm": grad_norm.item(),
        })
        print(f"step {step + 1:2d} loss {loss.item():.6f} lr {lr:.3e} grad_norm {grad_norm.item():.5f}")

    final = {}
    sums = {}
    for key, t in sorted(get_peft_model_state_dict(model).items()):
        t = t.detach().float().contiguous()
        final[key] = {"shape": list(t.shape), "values": t.reshape(-1).tolist()}
        sums[key] = {"sum": t.double().sum().item(), "abs_sum": t.double().abs().sum().item()}

    with open(os.path.join(outdir, "rows.json"), "w") as f:
        json.dump({
            "rows": ROWS,
            "response_template": TEMPLATE,
            "pad_token_id": PAD,
            "max_seq_length": MAX_SEQ_LENGTH,
            "settings": SETTINGS,
        }, f, indent=1)
    with open(os.path.join(outdir, "expected.json"), "w") as f:
        json.dump({
            "generator": "tests/RaftPipeline.Training.Tests/Fixtures/trainer_parity/generate.py",
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "peft": peft.__version__,
            "device": "cpu",
            "dtype": "float32",
            "attn_implementation": "eager",
            "steps": steps,
            "final_adapter_sums": sums,
            "final_adapter": final,
        }, f)

    files = [os.path.join(d, n) for d, _, names in os.walk(outdir) for n in names
             if not n.endswith(".py") and "__pycache__" not in d]
    total = sum(os.path.getsize(p) for p in files)
    print(f"wrote {len(files)} files, {total} bytes")
    assert len(files) <= 8, files
    assert total < 2 * 1024 * 1024, total


if __name__ == "__main__":
    main()
