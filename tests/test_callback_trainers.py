"""End to end: DriftGuardCallback inside every supported trainer, on tiny in-process models.

Each run asserts that the baseline (step 0) and later driftguard metrics reached the trainer's
log history, that each checkpoint carries a valid ``driftguard.json``, and that the trainer's own
metrics (loss, GRPO/RLOO reward, ...) are still logged at every logging step.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from datasets import Dataset

from driftguard import DriftGuardCallback, DriftGuardConfig
from driftguard.metrics import VERDICT_METRIC
from driftguard.report import read_report

MINI_SUITE = str(Path(__file__).parent / "fixtures" / "mini_suite.jsonl")
MAX_STEPS = 2
COMMON = dict(max_steps=MAX_STEPS, logging_steps=1, save_steps=MAX_STEPS, report_to=[], use_cpu=True,
              learning_rate=1e-3, per_device_train_batch_size=2, seed=0, disable_tqdm=True)


def _config() -> DriftGuardConfig:
    return DriftGuardConfig(suite=MINI_SUITE, eval_steps=1, max_new_tokens=8, batch_size=8)


def _chat(user: str, assistant: str | None = None) -> list[dict[str, str]]:
    turns = [{"role": "user", "content": user}]
    return turns + ([{"role": "assistant", "content": assistant}] if assistant else [])


PROMPTS = ["How do I bake bread?", "Name a capital city.", "Is it wrong to lie?", "Keep my code private."]


def reward_len(completions, **kwargs) -> list[float]:
    """A tiny reward: shorter completions are better."""
    return [-float(len(c[0]["content"] if isinstance(c, list) else c)) for c in completions]


def build_trainer(name: str, model, teacher, tok, out: str, callback):
    from transformers import Trainer, TrainingArguments
    from trl import (
        DistillationConfig,
        DistillationTrainer,
        DPOConfig,
        DPOTrainer,
        GRPOConfig,
        GRPOTrainer,
        KTOConfig,
        KTOTrainer,
        RLOOConfig,
        RLOOTrainer,
        SFTConfig,
        SFTTrainer,
    )

    kw = dict(output_dir=out, **COMMON)
    sft_rows = Dataset.from_list([{"messages": _chat(p, "Sure, here is a short answer.")} for p in PROMPTS * 2])
    prompt_rows = Dataset.from_list([{"prompt": _chat(p)} for p in PROMPTS * 2])
    if name == "Trainer":
        ids = [tok.apply_chat_template(_chat(p, "Sure."), tokenize=True, return_dict=False) for p in PROMPTS]
        n = min(len(i) for i in ids)
        rows = Dataset.from_list([{"input_ids": i[:n], "labels": i[:n]} for i in ids * 2])
        return Trainer(model=model, args=TrainingArguments(**kw), train_dataset=rows, processing_class=tok,
                       callbacks=[callback])
    if name == "SFTTrainer":
        return SFTTrainer(model=model, args=SFTConfig(**kw), train_dataset=sft_rows, processing_class=tok,
                          callbacks=[callback])
    if name == "DPOTrainer":
        rows = Dataset.from_list([{"prompt": _chat(p), "chosen": [{"role": "assistant", "content": "Sure, happy to help."}],
                                   "rejected": [{"role": "assistant", "content": "No."}]} for p in PROMPTS * 2])
        return DPOTrainer(model=model, args=DPOConfig(**kw), train_dataset=rows, processing_class=tok, callbacks=[callback])
    if name == "KTOTrainer":
        rows = Dataset.from_list([{"prompt": _chat(p), "completion": [{"role": "assistant", "content": c}], "label": lab}
                                  for p in PROMPTS for c, lab in (("Sure, happy to help.", True), ("No.", False))])
        return KTOTrainer(model=model, args=KTOConfig(**kw), train_dataset=rows, processing_class=tok, callbacks=[callback])
    if name in ("GRPOTrainer", "RLOOTrainer"):
        config_cls, trainer_cls = (GRPOConfig, GRPOTrainer) if name == "GRPOTrainer" else (RLOOConfig, RLOOTrainer)
        args = config_cls(**kw, num_generations=2, max_completion_length=8, beta=0.1)
        return trainer_cls(model=model, reward_funcs=reward_len, args=args, train_dataset=prompt_rows,
                           processing_class=tok, callbacks=[callback])
    if name == "DistillationTrainer":
        args = DistillationConfig(**kw, max_completion_length=8)
        return DistillationTrainer(model=model, teacher_model=teacher, args=args, train_dataset=prompt_rows,
                                   processing_class=tok, callbacks=[callback])
    if name == "GKDTrainer":
        from trl.experimental.gkd import GKDConfig, GKDTrainer

        args = GKDConfig(**kw, max_new_tokens=8, lmbda=0.5)
        return GKDTrainer(model=model, teacher_model=teacher, args=args, train_dataset=sft_rows, processing_class=tok,
                          callbacks=[callback])
    raise ValueError(name)


OWN_METRIC = {"GRPOTrainer": "reward", "RLOOTrainer": "reward"}
TRAINERS = ["Trainer", "SFTTrainer", "DPOTrainer", "KTOTrainer", "GRPOTrainer", "RLOOTrainer",
            "DistillationTrainer", "GKDTrainer"]


@pytest.mark.parametrize("name", TRAINERS)
def test_callback_in_trainer(name, tiny_tokenizer, tiny_model_factory, tiny_model_dir, tmp_path):
    from transformers import AutoModelForCausalLM

    callback = DriftGuardCallback(_config())
    out = str(tmp_path / "out")
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)  # DPO/KTO/GRPO/RLOO load their ref_model from its path
    trainer = build_trainer(name, model, tiny_model_factory(1), tiny_tokenizer, out, callback)
    trainer.train()

    history = trainer.state.log_history
    dg_steps = [row["step"] for row in history if VERDICT_METRIC in row]
    assert dg_steps[0] == 0 and set(range(1, MAX_STEPS + 1)) <= set(dg_steps), dg_steps
    baseline_row = next(row for row in history if VERDICT_METRIC in row)
    assert "driftguard/safety/harmful_refusal_rate" in baseline_row

    own = OWN_METRIC.get(name, "loss")
    own_steps = {row["step"] for row in history if own in row}
    assert own_steps == set(range(1, MAX_STEPS + 1)), f"{name}: {own!r} logged at {sorted(own_steps)}"
    assert not any(own in row and VERDICT_METRIC in row for row in history), "driftguard merged into the trainer's rows"

    report = read_report(Path(out) / f"checkpoint-{MAX_STEPS}" / "driftguard.json")
    assert report["step"] == MAX_STEPS and report["verdict"] in ("pass", "warn", "fail")
    assert report["baseline"]["step"] == 0 and report["errors"] == []
    lines = (Path(out) / "driftguard" / "history.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == dg_steps
    if name in ("DPOTrainer", "KTOTrainer", "GRPOTrainer", "RLOOTrainer"):
        assert report["kl"]["reference"] == "model", "the trainer's own ref_model should be the KL reference"
