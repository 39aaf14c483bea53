"""Every GPU measurement of benchmarks/ in one prepared run, within a time budget; JSON per measurement + a summary.

Each measurement is one benchmark script run in its own process (``python -m benchmarks.<name> ...``):
a crash, a CUDA OOM or a hang in one of them is written to its JSON file and the others still run.
A global time guard gives each measurement at most the time left (minus a reserve) and skips the
rest when the budget is spent; skipped and failed measurements are recorded, never dropped.

Measurements (``--device cuda``, realistic shapes, bf16; ``--smoke``: tiny shapes on CPU, for the tests):

- ``overhead``: SFT with and without the callback (Qwen2.5-0.5B shape), the forward-only and the full tier
  per evaluation, the mechanism pass vs a bare forward;
- ``kl_pass``: KL with the ``model``, ``adapter`` and ``cached`` references vs a bare forward, peak memory;
- ``probe_pass``: the batched probe pass vs a straightforward one, and vs TRL's generation helper;
- ``tiers_1.5b``: the tier timings on a Qwen2.5-1.5B-shaped model (28 layers, hidden 1536);
- any other benchmark script found in benchmarks/ and not listed here (e.g. the reasoning-aware pass's),
  run with ``--device``. The tier timings use the default config, so they include the reasoning-aware
  pass (``think_budget``) when this driftguard has it (``summary.json`` says whether it does).

Usage: ``python benchmarks/gpu_run.py [--out DIR] [--budget 480] [--smoke]`` (``benchmarks/gpu.sh`` wraps it).
Writes ``DIR/<name>.json`` per measurement and ``DIR/summary.json``; prints a summary table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
KNOWN = {"overhead", "kl_pass", "probe_pass", "power", "early_warning", "gpu_run", "common", "__init__",
         "reasoning_pass", "judges", "real_model", "option_scoring",
         # run by hand on CPU: real_model (a 466 s pass over SmolLM2), the attribution's validation (10 tiny SFT runs),
         # its overhead on SmolLM2 and the frozen-vs-refitted direction scenarios
         "attribution", "attribution_overhead", "direction_refit"}
CPU_ONLY = {"power", "early_warning", "judges"}  # no GPU work: simulated outcomes, a CPU scenario, text judges


@dataclass
class Measurement:
    """One benchmark invocation: module under benchmarks/, its arguments, and a time estimate (seconds)."""

    name: str
    module: str
    argv: list[str]
    estimate: float
    keys: tuple[str, ...] = ()  # headline keys shown in the summary table


def has_think_budget() -> bool:
    """Whether this driftguard's config has the reasoning-aware pass (``think_budget``)."""
    from dataclasses import fields

    from driftguard.config import DriftGuardConfig

    return any(f.name == "think_budget" for f in fields(DriftGuardConfig))


def plan(smoke: bool, device: str) -> list[Measurement]:
    """The measurements, most important first (the time guard drops from the end)."""
    tier_keys = ("forward_tier_overhead_default_cadence", "full_tier_overhead_default_cadence",
                 "overhead_generate_every_4", "mechanism_vs_bare_forward")
    if smoke:
        small = ["--device", "cpu", "--shape", "tiny"]
        steps = [
            Measurement("overhead", "overhead", [*small, "--steps", "2", "--eval-steps", "1", "--per-dimension", "4",
                                                 "--max-new-tokens", "2", "--seq-len", "32", "--train-batch-size", "2",
                                                 "--tier-repeats", "1"], 60, ("overhead_fraction", *tier_keys)),
            Measurement("kl_pass", "kl_pass", [*small, "--n-seqs", "2", "--prompt-len", "8", "--completion-len", "8",
                                               "--batch-size", "2", "--memory-tokens", "8", "--repeats", "1"], 30,
                        ("kl_vs_bare_model", "kl_vs_bare_cached")),
            Measurement("reasoning_pass", "reasoning_pass", [*small, "--per-dimension", "2", "--think-budget", "8",
                                                             "--max-new-tokens", "4", "--batch-size", "8"], 60,
                        ("time_ratio_reasoning_vs_single", "token_ratio")),
            Measurement("option_scoring", "option_scoring", [*small, "--n", "2", "--thought-tokens", "16",
                                                             "--repeats", "1", "--batch-size", "8"], 30,
                        ("per_row_over_shared_time", "max_abs_logprob_diff")),
        ]
    else:
        gpu = ["--device", device]
        steps = [
            Measurement("overhead", "overhead", [*gpu, "--shape", "gpu", "--steps", "60", "--eval-steps", "30",
                                                 "--tier-repeats", "2"], 200,
                        ("overhead_fraction", "steady_state_overhead_default_cadence", *tier_keys)),
            Measurement("kl_pass", "kl_pass", [*gpu, "--repeats", "3"], 60,
                        ("kl_vs_bare_model", "kl_vs_bare_adapter", "kl_vs_bare_cached", "peak_mem_chunked_vs_naive")),
            Measurement("probe_pass", "probe_pass", [*gpu, "--per-dimension", "6", "--repeats", "1"], 100,
                        ("speedup_vs_straightforward", "generate_speedup_vs_trl")),
            Measurement("reasoning_pass", "reasoning_pass", [*gpu, "--shape", "gpu", "--per-dimension", "16",
                                                             "--batch-size", "64", "--budgets", "0,64,256,512"], 100,
                        ("time_ratio_reasoning_vs_single", "token_ratio", "forced_share")),
            Measurement("tiers_1.5b", "overhead", [*gpu, "--shape", "gpu1.5b", "--steps", "20", "--tiers-only",
                                                   "--tier-repeats", "1"], 120, tier_keys),
            Measurement("option_scoring", "option_scoring", [*gpu, "--shape", "gpu", "--thought-tokens", "512",
                                                             "--n", "48", "--batch-size", "64"], 60,
                        ("per_row_over_shared_time", "per_row_over_shared_tokens", "max_abs_logprob_diff")),
        ]
    for path in sorted((ROOT / "benchmarks").glob("*.py")):  # scripts added later (e.g. the reasoning pass)
        if path.stem not in KNOWN and not path.stem.startswith("_"):
            argv = ["--device", "cpu" if smoke else device]
            steps.append(Measurement(path.stem, path.stem, argv, 60 if smoke else 120))
    return steps


def parse_output(stdout: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(full result, headline) from a benchmark's output: a JSON object, then the headline on the last line."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    headline = None
    if lines:
        try:
            headline = json.loads(lines[-1])
        except ValueError:
            headline = None
    full = None
    start = next((i for i, line in enumerate(lines) if line == "{"), None)
    if start is not None:
        try:
            full = json.loads("\n".join(lines[start:-1]))
        except ValueError:
            full = None
    return full, headline


def run_one(m: Measurement, timeout: float, out: Path) -> dict[str, Any]:
    """Run ``m`` in its own process with ``timeout``; write and return its record."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    record: dict[str, Any] = {"name": m.name, "command": [sys.executable, "-m", f"benchmarks.{m.module}", *m.argv],
                              "timeout_s": round(timeout, 1)}
    start = time.perf_counter()
    try:
        proc = subprocess.run(record["command"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
        record["returncode"] = proc.returncode
        stdout, stderr = proc.stdout, proc.stderr
        record["status"] = "ok" if proc.returncode == 0 else "error"
    except subprocess.TimeoutExpired as e:
        stdout = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        stderr = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        record["status"] = "timeout"
    except Exception as e:  # noqa: BLE001 - one failure must not lose the other measurements
        stdout, stderr = "", f"{type(e).__name__}: {e}"
        record["status"] = "error"
    record["seconds"] = round(time.perf_counter() - start, 1)
    record["result"], record["headline"] = parse_output(stdout)
    if record["status"] != "ok":
        record["error"] = stderr[-4000:]
    (out / f"{m.name}.stdout.txt").write_text(stdout)
    (out / f"{m.name}.json").write_text(json.dumps(record, indent=1, default=str))
    return record


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def print_summary(records: list[dict[str, Any]], plan_: list[Measurement]) -> None:
    keys = {m.name: m.keys for m in plan_}
    print(f"\n{'measurement':18s} {'status':8s} {'seconds':>8s}  headline")
    for r in records:
        headline = r.get("headline") or {}
        shown = keys.get(r["name"]) or tuple(headline)[:4]
        cells = ", ".join(f"{k}={_cell(headline.get(k))}" for k in shown if k in headline)
        if r["status"] != "ok" and not cells:
            cells = (r.get("error") or r.get("reason") or "").strip().splitlines()[-1:] or [""]
            cells = cells[0][:100]
        print(f"{r['name']:18s} {r['status']:8s} {r.get('seconds', 0):8.1f}  {cells}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.environ.get("OUT") or "gpu_results")
    parser.add_argument("--budget", type=float, default=480.0, help="seconds for everything (default 8 minutes)")
    parser.add_argument("--reserve", type=float, default=10.0, help="seconds kept for writing the summary")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--smoke", action="store_true", help="tiny shapes on CPU (what the test suite runs)")
    parser.add_argument("--only", default=None, help="comma-separated measurement names")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    steps = plan(args.smoke, args.device)
    if args.only:
        wanted = set(args.only.split(","))
        steps = [m for m in steps if m.name in wanted]
    records: list[dict[str, Any]] = []
    environment: dict[str, Any] = {"python": sys.version.split()[0], "smoke": args.smoke, "budget_s": args.budget,
                                   "think_budget": has_think_budget()}
    try:
        import torch

        environment.update({"torch": torch.__version__, "cuda": torch.cuda.is_available(),
                            "device_name": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None})
    except Exception as e:  # noqa: BLE001
        environment["torch_error"] = str(e)
    for m in steps:
        left = args.budget - (time.perf_counter() - t0) - args.reserve
        if left < max(20.0, 0.5 * m.estimate):  # estimates are rough: run when half of one is left
            record = {"name": m.name, "status": "skipped", "reason": f"time budget: {left:.0f} s left, "
                      f"estimate {m.estimate:.0f} s", "seconds": 0.0}
            (out / f"{m.name}.json").write_text(json.dumps(record, indent=1))
            records.append(record)
            continue
        print(f"[gpu_run] {m.name}: up to {min(left, max(2 * m.estimate, 60.0)):.0f} s", flush=True)
        records.append(run_one(m, min(left, max(2 * m.estimate, 60.0)), out))
    summary = {"environment": environment, "seconds": round(time.perf_counter() - t0, 1),
               "measurements": {r["name"]: {k: r.get(k) for k in ("status", "seconds", "headline", "error", "reason")}
                                for r in records}}
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    print_summary(records, steps)
    print(f"[gpu_run] {len(records)} measurements in {summary['seconds']} s; results under {out}/")
    return summary


if __name__ == "__main__":
    main()
