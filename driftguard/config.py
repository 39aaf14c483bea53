"""DriftGuardConfig: one dataclass for the callback and the CLI, usable with HfArgumentParser."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from driftguard.errors import ConfigError
from driftguard.metrics import get_metric

REFERENCE_MODES = ("auto", "adapter", "model", "cached")
TRACE_METRICS = ("driftguard/privacy/reasoning_leak_rate", "driftguard/toxicity/reasoning_toxic_rate")


@dataclass
class DriftGuardConfig:
    """Settings of a driftguard monitor. Every field can be given on the command line."""

    suite: str | list[str] = field(
        default="compact",
        metadata={"help": "Shipped suite name (compact, full), a JSONL/YAML path, an adapter "
                  "prefix (xstest:PATH, bbq:PATH, ethics:PATH), or a comma-separated list / list of them."},
    )
    eval_steps: int | None = field(
        default=None,
        metadata={"help": "Probe every N optimizer steps. Default: the trainer's eval_steps when "
                  "its eval strategy is 'steps', else 100."},
    )
    max_new_tokens: int = field(default=64, metadata={"help": "Answer budget of generate-probes (tokens after "
                                                         "the thought; the whole completion of a model that does not think)."})
    batch_size: int = field(default=16, metadata={"help": "Probes per forward/generate batch."})
    reference: Literal["auto", "adapter", "model", "cached"] = field(
        default="auto",
        metadata={"help": "Reference for KL: adapter (PEFT base with adapter disabled), model (a frozen "
                  "model), cached (reference top-k log-probs kept on CPU), auto (cheapest exact one)."},
    )
    reference_model: str | None = field(
        default=None,
        metadata={"help": "Path of the reference model for reference='model' (a model object is accepted too)."},
    )
    reference_dtype: str | None = field(default=None, metadata={"help": "dtype of a loaded reference, e.g. bfloat16."})
    reference_device: str | None = field(default=None, metadata={"help": "Device of a loaded reference (default: the policy's)."})
    cached_top_k: int = field(default=256, metadata={"help": "Top-k reference log-probs kept per token in cached mode."})
    kl_budget: float = field(default=0.5, metadata={"help": "KL (nats/token) above which drift counts as a regression."})
    alpha: float = field(default=0.05, metadata={"help": "Family-wise significance level per evaluation (Tarone-Holm); "
                                                 "also the bound on any false fail over a whole run."})
    thresholds: dict[str, float] | str | None = field(
        default=None,
        metadata={"help": "JSON object: metric name -> minimal effect that counts (overrides the defaults)."},
    )
    patience: int = field(default=2, metadata={"help": "Consecutive regressed evaluations before the verdict is fail."})
    early_stop: bool = field(default=False, metadata={"help": "Stop training when the verdict is fail."})
    save_on_stop: bool = field(default=True, metadata={"help": "Save a checkpoint before an early stop."})
    on_error: Literal["warn", "raise"] = field(
        default="warn", metadata={"help": "warn: record probe-pass errors and keep training; raise: re-raise."}
    )
    wandb_alerts: bool = field(default=True, metadata={"help": "Send W&B/trackio alerts on warn/fail."})
    alert_cooldown_steps: int = field(default=0, metadata={"help": "Min steps between two alerts of the same level and metric."})
    seed: int = field(default=0, metadata={"help": "Seed of the probe pass (sampling-free, but judges may use it)."})
    reasoning_markers: list[str] = field(
        default_factory=lambda: ["<think>", "</think>"],
        metadata={"help": "Open and close markers of the reasoning trace."},
    )
    kl_on_policy: bool = field(default=False, metadata={"help": "Also report KL on the policy's own probe generations."})
    think_budget: int = field(
        default=256,
        metadata={"help": "Tokens a reasoning model may think before the probe pass closes its thought and asks for "
                  "the answer (0: an empty thought is forced)."},
    )
    reasoning_separator: str | None = field(
        default=None,
        metadata={"help": "Text between the close marker and the answer when the pass closes a thought "
                  "(default: read from the chat template, else a blank line)."},
    )
    reasoning_visible: bool = field(
        default=False,
        metadata={"help": "Whether users see reasoning traces. False: trace leaks and toxic traces are reported and "
                  "plotted but never a FAIL; True: they regress like answer metrics."},
    )
    refusal_judge: str = field(default="behaviour", metadata={
        "help": "Refusal judge: 'behaviour' (offline rules, default), 'markers' (v1) or 'hf:PATH' (a local classifier)."})
    informational_metrics: list[str] = field(
        default_factory=lambda: ["mechanism/refusal_dprime", "mechanism/harmful_projection",
                                 "mechanism/direction_cosine", "mechanism/refit_dprime", "mechanism/ablation_margin_drop",
                                 "mechanism/ablation_margin_drop_refit"],
        metadata={"help": "Metrics tested and reported (flagged 'informational') that never count toward warn/fail, "
                  "patience, alerts or early stop; tested in their own family. Default: the mechanism metrics (on the "
                  "tiny demo models they move in the aligned control too, see docs/mechanism.md); [] counts them. The trace "
                  "metrics are added while reasoning_visible is False."},
    )
    evidence_window: int = field(
        default=2,
        metadata={"help": "Scheduled evaluations whose per-item outcomes each metric's paired test pools "
                  "(the current one and the previous ones that measured the metric); 1 = this evaluation only."},
    )
    fail_on_errors: bool = field(
        default=True,
        metadata={"help": "Evaluations with probe errors are at least warn; errors on `patience` consecutive "
                  "scheduled evaluations turn the verdict to fail (False: they stay warn)."},
    )
    mechanism: bool = field(
        default=True,
        metadata={"help": "Forward-only refusal-direction metrics (driftguard/mechanism/*) at every evaluation: "
                  "one forward over the suite's harmful and benign safety prompts, no generation."},
    )
    generate_every: int = field(
        default=1,
        metadata={"help": "Run the generation probes every N evaluations (1: every evaluation). The other "
                  "evaluations run the forward-only tier (mechanism, refusal margin, option scores, KL); "
                  "baseline, checkpoint saves and the end of training always run both tiers."},
    )
    attribution: bool = field(
        default=False,
        metadata={"help": "Live attribution: at each evaluation the gradient of the probe set's safety loss, and per "
                  "optimizer step its dot product with the step's gradient, update and each training row's gradient; "
                  "the top steps and examples go to the report, W&B and attribution.jsonl (docs/attribution.md)."},
    )
    attribution_top_k: int = field(default=10, metadata={"help": "Steps and examples listed per evaluation."})
    attribution_params: str | None = field(
        default=None,
        metadata={"help": "Regex of the linear layers attributed (default: every trainable one: a LoRA adapter's, "
                  "or all of a full fine-tune's up to 50M parameters)."},
    )

    def __post_init__(self) -> None:
        if self.suite is None:  # HfArgumentParser passes None for an unset str | list field
            self.suite = "compact"
        entries = [self.suite] if isinstance(self.suite, str) else list(self.suite)
        self.suite = [s.strip() for entry in entries for s in entry.split(",") if s.strip()]
        if not self.suite:
            raise ConfigError("suite: empty; give a shipped name (compact, full) or a path")
        if isinstance(self.thresholds, str):
            try:
                self.thresholds = json.loads(self.thresholds)
            except json.JSONDecodeError as e:
                raise ConfigError(f"thresholds: not a JSON object ({e}); e.g. "
                                  "'{\"safety/harmful_refusal_rate\": 0.05}'") from None
        thresholds = dict(self.thresholds or {})
        self.thresholds = {get_metric(k).name: float(v) for k, v in thresholds.items()}
        for name, value in self.thresholds.items():
            if value < 0:
                raise ConfigError(f"thresholds[{name!r}] = {value}: must be >= 0 (a minimal effect size)")
        if self.reference not in REFERENCE_MODES:
            raise ConfigError(f"reference = {self.reference!r}: use one of {', '.join(REFERENCE_MODES)}")
        for name in ("max_new_tokens", "batch_size", "patience", "cached_top_k", "generate_every", "attribution_top_k"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} = {getattr(self, name)}: must be >= 1")
        if self.think_budget < 0:
            raise ConfigError(f"think_budget = {self.think_budget}: must be >= 0 (tokens of thought; 0 forces an empty thought)")
        if self.eval_steps is not None and self.eval_steps < 1:
            raise ConfigError(f"eval_steps = {self.eval_steps}: must be >= 1 (or None for the trainer's cadence)")
        if not 0 < self.alpha < 1:
            raise ConfigError(f"alpha = {self.alpha}: must be in (0, 1), e.g. 0.05")
        if self.kl_budget <= 0:
            raise ConfigError(f"kl_budget = {self.kl_budget}: must be > 0 (nats per token)")
        if self.on_error not in ("warn", "raise"):
            raise ConfigError(f"on_error = {self.on_error!r}: use 'warn' or 'raise'")
        names = self.informational_metrics or []
        if isinstance(names, str):  # "a, b" from the command line or an env variable
            names = [n.strip() for n in names.split(",") if n.strip()]
        self.informational_metrics = [get_metric(m).name for m in names]
        if not self.reasoning_visible:  # hidden traces: trace metrics are reported, never a WARN/FAIL
            self.informational_metrics += [m for m in TRACE_METRICS if m not in self.informational_metrics]
        if self.attribution_params:
            try:
                re.compile(self.attribution_params)
            except re.error as e:
                raise ConfigError(f"attribution_params = {self.attribution_params!r}: not a regular expression ({e}); "
                                  "e.g. 'layers\\.(2[89]|3[01])\\.'") from None
        if self.evidence_window < 1:
            raise ConfigError(f"evidence_window = {self.evidence_window}: must be >= 1 (1 = this evaluation only)")
        if len(self.reasoning_markers) != 2 or not all(self.reasoning_markers):
            raise ConfigError(f"reasoning_markers = {self.reasoning_markers!r}: give [open, close], "
                              "e.g. ['<think>', '</think>']")
        if not (self.refusal_judge in ("behaviour", "markers") or (self.refusal_judge.startswith("hf:") and
                                                                    self.refusal_judge[3:])):
            raise ConfigError(f"refusal_judge = {self.refusal_judge!r}: use 'behaviour', 'markers' or 'hf:PATH' "
                              "(a local text-classification model)")

    def threshold(self, metric: str) -> float:
        """The minimal effect size of ``metric`` (configured or its default)."""
        spec = get_metric(metric)
        thresholds = self.thresholds if isinstance(self.thresholds, dict) else {}
        return thresholds.get(spec.name, spec.default_threshold)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe view (a model object in ``reference_model`` is shown by its class name)."""
        d = asdict(self)
        if d["reference_model"] is not None and not isinstance(d["reference_model"], str):
            d["reference_model"] = type(self.reference_model).__name__
        return d
