"""``driftguard run [--config FILE] -- COMMAND...``: attach DriftGuardCallback to an unmodified script.

The command runs with ``driftguard/_bootstrap`` prepended to ``PYTHONPATH``. Python imports the
``sitecustomize`` module found there at start-up, in every Python process the command spawns
(``accelerate launch`` workers and ``trl sft`` included); it patches ``transformers.Trainer.__init__``
so that every Trainer (and so every TRL trainer) gets a DriftGuardCallback unless it already has one.
Configuration comes from the YAML file (``DRIFTGUARD_CONFIG``) and ``DRIFTGUARD_<FIELD>`` variables.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from driftguard.config import DriftGuardConfig
from driftguard.errors import ConfigError

BOOTSTRAP_DIR = Path(__file__).parent / "_bootstrap"
ENV_PREFIX = "DRIFTGUARD_"
CONFIG_ENV = "DRIFTGUARD_CONFIG"


def _as_args(name: str, value: object) -> list[str]:
    """One config field as command-line arguments for HfArgumentParser."""
    if isinstance(value, list | tuple):
        return [f"--{name}", *(str(v) for v in value)]
    if isinstance(value, dict):
        return [f"--{name}", json.dumps(value)]
    return [f"--{name}", str(value)]


def config_from_env(environ: Mapping[str, str] | None = None) -> DriftGuardConfig:
    """Build the config from ``DRIFTGUARD_CONFIG`` (YAML file) and ``DRIFTGUARD_<FIELD>`` overrides."""
    import yaml
    from transformers import HfArgumentParser

    environ = os.environ if environ is None else environ
    fields = {f.name for f in dataclasses.fields(DriftGuardConfig)}
    values: dict[str, object] = {}
    if environ.get(CONFIG_ENV):
        path = Path(environ[CONFIG_ENV])
        if not path.is_file():
            raise ConfigError(f"{CONFIG_ENV}={path}: no such file; give a YAML file of DriftGuardConfig fields")
        loaded = yaml.safe_load(path.read_text()) or {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: expected a mapping of DriftGuardConfig fields, got {type(loaded).__name__}")
        unknown = sorted(set(loaded) - fields)
        if unknown:
            raise ConfigError(f"{path}: unknown field(s) {unknown}; known: {sorted(fields)}")
        values.update(loaded)
    for key, raw in environ.items():
        if key.startswith(ENV_PREFIX) and key != CONFIG_ENV:
            name = key[len(ENV_PREFIX):].lower()
            if name not in fields:
                raise ConfigError(f"{key}: unknown driftguard field {name!r}; known: {sorted(fields)}")
            values[name] = raw.split() if name == "reasoning_markers" else raw
    argv = [arg for name, value in values.items() for arg in _as_args(name, value)]
    try:
        (config,) = HfArgumentParser(DriftGuardConfig).parse_args_into_dataclasses(args=argv, look_for_args_file=False)
    except SystemExit:
        raise ConfigError(f"invalid driftguard settings {values}; see `driftguard run --help`") from None
    return config


def install() -> None:
    """Patch ``transformers.Trainer.__init__`` to add a DriftGuardCallback to every Trainer."""
    from transformers import Trainer

    if getattr(Trainer.__init__, "_driftguard_patched", False):
        return
    original = Trainer.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        from driftguard.callback import DriftGuardCallback

        if not any(isinstance(cb, DriftGuardCallback) for cb in self.callback_handler.callbacks):
            self.add_callback(DriftGuardCallback(config_from_env()))

    __init__._driftguard_patched = True  # type: ignore[attr-defined]
    Trainer.__init__ = __init__


def run_command(command: Sequence[str], *, config_file: str | None = None) -> int:
    """Run ``command`` with the bootstrap on PYTHONPATH; returns the command's own exit code."""
    if not command:
        raise ConfigError("driftguard run: no command; usage: driftguard run [--config FILE] -- python train.py ...")
    env = dict(os.environ)
    if config_file is not None:
        env[CONFIG_ENV] = str(Path(config_file).resolve())
    config_from_env(env)  # fail fast on a bad config, before the training command starts
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(BOOTSTRAP_DIR), env.get("PYTHONPATH", "")) if p)
    try:
        return subprocess.call(list(command), env=env)
    except FileNotFoundError:
        print(f"driftguard run: command not found: {command[0]}", file=sys.stderr)
        return 127
