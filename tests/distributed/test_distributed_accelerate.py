"""`accelerate launch --num_processes 2` on CPU (DDP over gloo) with the callback: same records as 1 process,
history written once, and an early stop that ends both processes.

In accelerate 1.15, ``--cpu --num_processes 2`` starts ONE process unless MPI is installed (its simple
launcher); the torchrun-based launcher (``--multi_gpu``) with ``use_cpu=True`` in the training arguments
gives two gloo processes (``DistributedType.MULTI_CPU``), which is what this test runs.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
SCRIPT = str(HERE / "dist_sft_script.py")
FSDP_SCRIPT = str(HERE / "fsdp_probe_script.py")
ATTRIBUTION_SCRIPT = str(HERE / "attribution_script.py")
MINI_SUITE = str(HERE.parent / "fixtures" / "mini_suite.jsonl")


def _same_records(one: dict, two: dict, part: str) -> None:
    """One process and rank 0 of two hold the same 17 records of ``part`` (answers equal, values within 1e-4)."""
    rec1 = {r["probe_id"]: r for r in one[part]["records"]}
    rec2 = {r["probe_id"]: r for r in two[part]["records"]}
    assert rec1.keys() == rec2.keys() and len(rec1) == 17
    for pid, r1 in rec1.items():
        assert r1["answer"] == rec2[pid]["answer"], (part, pid)
        for name, v1 in r1["values"].items():
            v2 = rec2[pid]["values"][name]
            assert (v1 is None and v2 is None) or math.isclose(v1, v2, rel_tol=1e-4, abs_tol=1e-4), (pid, name)


PORT = "{port}"  # in a launch command: replaced by a fresh free port on every attempt (see _run)
ACCELERATE_2 = ["-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
                "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", PORT]
LAUNCH_TIMEOUT_S = 900  # one launch takes 10-60 s on 2 cores, minutes when the machine is loaded; past this it hangs
_ports = itertools.count()


def _port_window() -> range:
    """Ports just below the kernel's ephemeral range: never handed out by ``bind(0)`` or an outgoing connection."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):  # not Linux
        low = 49152  # IANA's dynamic range, which macOS and Windows hand out
    return range(max(1024, low - 8192), low)


def _free_port() -> int:
    """A free port for one launch's rendezvous that no other process is handed before the launcher binds it.

    Binding port 0 and closing the socket returns an ephemeral port, which any process's outgoing connection or
    ``bind(0)`` (gloo's own pairs, a concurrent suite) may take in the seconds before the elastic agent binds it.
    Here the port lies below the ephemeral range, starts at a pid-derived offset and moves on with every launch
    (concurrent suites and consecutive launches differ), and binding without SO_REUSEADDR skips TIME_WAIT ports.
    """
    window = _port_window()
    start = os.getpid() * 7919
    for _ in range(len(window)):
        port = window[(start + next(_ports)) % len(window)]
        with socket.socket() as s:
            try:
                s.bind(("", port))
            except OSError:  # in use, or in TIME_WAIT after an earlier launch
                continue
        return port
    with socket.socket() as s:  # no window below the ephemeral range on this machine
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(out: str, err: str) -> str:
    return f"--- stdout (tail) ---\n{out[-3000:]}\n--- stderr (tail) ---\n{err[-8000:]}"


def _stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """SIGTERM the launch's process group (the elastic agent stops its workers, which run in sessions of their
    own, so none is left busy for the rest of the suite), SIGKILL after a grace period; the output so far."""
    for sig, grace_s in ((signal.SIGTERM, 60), (signal.SIGKILL, 10)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            return proc.communicate(timeout=grace_s)
        except subprocess.TimeoutExpired:
            continue
    return "", "(no output: a worker still holds the pipes)"


def _run(cmd: list[str], timeout_s: float = LAUNCH_TIMEOUT_S) -> None:
    """Run ``cmd`` (``PORT`` replaced by :func:`_free_port`); fail with its output's tail unless it exits 0.

    A launch that lost its rendezvous port (EADDRINUSE) is retried on another port; one that runs past
    ``timeout_s`` is stopped with its workers and reported as a hang.
    """
    env = {**os.environ, "OMP_NUM_THREADS": "1", "WANDB_MODE": "offline", "TOKENIZERS_PARALLELISM": "false"}
    for _attempt in range(3):
        argv = [str(_free_port()) if arg == PORT else arg for arg in cmd]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            pytest.fail(f"no result in {timeout_s} s (a hang?): {shlex.join(argv)}\n{_tail(*_stop(proc))}")
        except BaseException:  # Ctrl-C, a cancelled CI job: its own session would keep the launch running
            _stop(proc)
            raise
        if proc.returncode == 0:
            return
        lost_port = any(s in (out + err).lower() for s in ("eaddrinuse", "address already in use"))
        if PORT not in cmd or not lost_port:
            break
    pytest.fail(f"exit code {proc.returncode}: {shlex.join(argv)}\n{_tail(out, err)}")


@pytest.fixture(scope="module")
def runs(tiny_model_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("dist")
    single, multi = root / "single", root / "multi"
    _run([sys.executable, SCRIPT, str(tiny_model_dir), str(single), MINI_SUITE])
    _run([sys.executable, *ACCELERATE_2, SCRIPT, str(tiny_model_dir), str(multi), MINI_SUITE])
    return single, multi


@pytest.fixture(scope="module")
def injected_run(tiny_model_dir, tmp_path_factory):
    """The same 2-process run, but the script attaches nothing: `driftguard run -- accelerate launch ...`."""
    root = tmp_path_factory.mktemp("dist_run")
    config = root / "driftguard.yaml"
    config.write_text(f"suite: {MINI_SUITE}\neval_steps: 1\nmax_new_tokens: 8\nbatch_size: 4\nkl_budget: 1.0e-9\n"
                      "patience: 1\nearly_stop: true\n")
    out = root / "out"
    _run([sys.executable, "-m", "driftguard.cli", "run", "--config", str(config), "--", sys.executable, *ACCELERATE_2,
          SCRIPT, str(tiny_model_dir), str(out), MINI_SUITE, "injected"])
    return out


def _summary(out: Path, rank: int = 0) -> dict:
    return json.loads((out / f"summary-rank{rank}.json").read_text())


@pytest.mark.distributed
def test_two_processes_gather_the_single_process_records(runs):
    single, multi = runs
    one, two = _summary(single), _summary(multi)
    assert one["world_size"] == 1 and two["world_size"] == 2 and two["wrapped"] == "DistributedDataParallel"
    rec1 = {r["probe_id"]: r for r in one["baseline"]["records"]}
    rec2 = {r["probe_id"]: r for r in two["baseline"]["records"]}
    assert rec1.keys() == rec2.keys() and len(rec1) == 17, "every probe exactly once: padding dropped"
    for pid, r1 in rec1.items():
        r2 = rec2[pid]
        assert r1["answer"] == r2["answer"], pid
        for name, v1 in r1["values"].items():
            v2 = r2["values"][name]
            assert (v1 is None and v2 is None) or math.isclose(v1, v2, rel_tol=1e-4, abs_tol=1e-4), (pid, name, v1, v2)
    for name, v1 in one["baseline"]["metrics"].items():
        assert two["baseline"]["metrics"][name] == pytest.approx(v1, rel=1e-4, abs=1e-4), name


@pytest.mark.distributed
def test_history_once_and_early_stop_ends_both_ranks(runs):
    _, multi = runs
    ranks = [_summary(multi, 0), _summary(multi, 1)]
    assert [r["stopped_early"] for r in ranks] == [True, True]
    assert ranks[0]["global_step"] == ranks[1]["global_step"] == 1, "both ranks stopped at the failing step"
    lines = (multi / "driftguard" / "history.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [0, 1], "rank 0 alone writes the history"
    assert json.loads(lines[-1])["verdict"] == "fail"
    assert (multi / "checkpoint-1" / "driftguard.json").is_file(), "save_on_stop saved the stopping checkpoint"


@pytest.mark.distributed
def test_driftguard_run_wraps_accelerate_launch_and_reaches_every_rank(injected_run, runs):
    ranks = [_summary(injected_run, 0), _summary(injected_run, 1)]
    assert [r["world_size"] for r in ranks] == [2, 2]
    assert all(r["config"]["suite"] == [MINI_SUITE] and r["config"]["kl_budget"] == 1e-9 for r in ranks), "YAML reached both"
    assert [r["stopped_early"] for r in ranks] == [True, True] and ranks[0]["global_step"] == 1
    lines = (injected_run / "driftguard" / "history.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [0, 1]
    _, multi = runs
    assert ranks[0]["baseline"]["metrics"] == _summary(multi)["baseline"]["metrics"], "same as the callback in the script"


@pytest.fixture(scope="module")
def attribution_runs(tiny_model_dir, tmp_path_factory):
    """LoRA SFT (fp32) with attribution=True on a global batch of 4: one process x 4 rows, and two DDP ranks x 2."""
    root = tmp_path_factory.mktemp("attribution")
    single, multi = root / "single", root / "multi"
    _run([sys.executable, ATTRIBUTION_SCRIPT, str(tiny_model_dir), str(single), MINI_SUITE, "1"])
    _run([sys.executable, *ACCELERATE_2, ATTRIBUTION_SCRIPT, str(tiny_model_dir), str(multi), MINI_SUITE, "2"])
    return single, multi


def _attribution_lines(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "driftguard" / "attribution.jsonl").read_text().splitlines()]


@pytest.mark.distributed
def test_attribution_over_two_ranks_names_the_rows_one_process_names(attribution_runs):
    single, multi = attribution_runs
    one, two = _summary(single), [_summary(multi, rank) for rank in (0, 1)]
    assert [s["world_size"] for s in two] == [2, 2] and two[0]["wrapped"] == "DistributedDataParallel"
    assert not one["errors"] and not two[0]["errors"]
    lines1, lines2 = _attribution_lines(single), _attribution_lines(multi)
    assert [s["step"] for s in lines2] == [1, 2, 3, 4], "rank 0 alone writes attribution.jsonl"
    assert all(s["rows"] == 4 and len(s["examples"]) == 4 for s in lines2), "each step holds both ranks' rows"
    for a, b in zip(lines1, lines2, strict=True):  # the same rows per step, and the same share of <G, grad> each
        assert b["grad_dot"] == pytest.approx(a["grad_dot"], rel=1e-5)
        assert b["update_dot"] == pytest.approx(a["update_dot"], rel=1e-4)
        rows1, rows2 = ({key: (h, hr) for key, h, hr in x["examples"]} for x in (a, b))
        assert rows1.keys() == rows2.keys()
        scale = max(abs(h) for h, _ in rows1.values())
        for key, harms in rows1.items():  # harm and its refusal half; measured: within 4e-7 of the step's largest
            assert rows2[key] == pytest.approx(harms, abs=1e-5 * scale), (b["step"], key)
        assert sum(h for h, _ in rows2.values()) == pytest.approx(-b["grad_dot"], rel=1e-5), "both ranks' rows"
    summary = two[0]["attribution"]
    assert summary["ghost_ratio"] == pytest.approx(1.0, rel=1e-4), "rows scaled by 1/world: DDP averages gradients"
    assert two[1]["attribution"]["run_top_examples"] == summary["run_top_examples"], "every rank holds the gathered ranking"
    ranked1 = [r["index"] for r in one["attribution"]["run_top_examples"]]
    ranked2 = [r["index"] for r in summary["run_top_examples"]]
    assert len(ranked2) == 16 and set(ranked2) == set(range(16)), "all 16 rows of the epoch, from both ranks"
    assert ranked2[:4] == ranked1[:4]


@pytest.fixture(scope="module")
def fsdp_runs(tiny_model_dir, tmp_path_factory):
    """The monitor's baseline + one drifted evaluation: 1 process, and 2 processes with FSDP2-sharded weights."""
    root = tmp_path_factory.mktemp("fsdp")
    single, sharded = root / "single", root / "sharded"
    single.mkdir()
    sharded.mkdir()
    _run([sys.executable, FSDP_SCRIPT, str(tiny_model_dir), str(single), MINI_SUITE])
    _run([sys.executable, *ACCELERATE_2, FSDP_SCRIPT, str(tiny_model_dir), str(sharded), MINI_SUITE])
    return [json.loads((single / "fsdp-rank0.json").read_text())], [
        json.loads((sharded / f"fsdp-rank{rank}.json").read_text()) for rank in (0, 1)]


@pytest.mark.distributed
def test_fsdp_sharded_weights_give_the_single_process_records(fsdp_runs):
    [one], two = fsdp_runs
    assert one["world_size"] == 1 and not one["sharded"]
    assert [r["world_size"] for r in two] == [2, 2] and all(r["sharded"] for r in two)
    for part in ("baseline", "evaluation"):
        assert one[part]["errors"] == [] and two[0][part]["errors"] == [], "no rank failed or hung"
        _same_records(one, two[0], part)
        assert two[0][part]["metrics"] == two[1][part]["metrics"], "every rank holds the same gathered result"
    assert one["evaluation"]["kl"]["mean"] > 1e-3
    assert two[0]["evaluation"]["kl"]["mean"] == pytest.approx(one["evaluation"]["kl"]["mean"], rel=1e-4)


MECHANISM_SCRIPT = str(HERE / "mechanism_script.py")


@pytest.fixture(scope="module")
def mechanism_runs(tiny_model_dir, tmp_path_factory):
    """Baseline fit + a forward-only evaluation: 1 process, 2 gloo processes, 2 processes with FSDP2 weights."""
    from driftguard.probes import load_suite
    from driftguard.probes.suite import probe_to_dict

    root = tmp_path_factory.mktemp("mechanism")
    compact = load_suite("compact")
    picked = ([p for p in compact if p.dimension == "safety" and p.expect == "refuse"][:9]
              + [p for p in compact if p.dimension == "safety" and p.expect == "comply"][:8])
    suite = root / "safety.jsonl"
    suite.write_text("".join(json.dumps(probe_to_dict(p)) + "\n" for p in picked))
    runs = {}
    for name, launcher, extra in (("single", [], []), ("ddp", ACCELERATE_2, []), ("fsdp", ACCELERATE_2, ["fsdp"])):
        out = root / name
        out.mkdir()
        _run([sys.executable, *launcher, MECHANISM_SCRIPT, str(tiny_model_dir), str(out), str(suite), *extra])
        runs[name] = [json.loads(p.read_text()) for p in sorted(out.glob("mechanism-rank*.json"))]
    return runs


@pytest.mark.distributed
def test_two_processes_give_the_single_process_mechanism_metrics(mechanism_runs):
    [one] = mechanism_runs["single"]
    assert one["world_size"] == 1 and one["direction"]["layer"] >= 1
    for name in ("ddp", "fsdp"):
        ranks = mechanism_runs[name]
        assert [r["world_size"] for r in ranks] == [2, 2] and all(r["sharded"] == (name == "fsdp") for r in ranks)
        for rank in ranks:
            assert rank["direction"]["layer"] == one["direction"]["layer"], name
            assert rank["direction"]["folds"] == one["direction"]["folds"]
            for part in ("baseline", "evaluation"):
                assert rank[part]["errors"] == [], (name, part)
                mech1 = {k: v for k, v in one[part]["metrics"].items() if "/mechanism/" in k}
                mech2 = {k: v for k, v in rank[part]["metrics"].items() if "/mechanism/" in k}
                assert len(mech1) == 6 and mech1.keys() == mech2.keys()  # 3 frozen-direction + refit + 2 ablation
                for metric, v1 in mech1.items():
                    assert math.isclose(v1, mech2[metric], rel_tol=1e-4, abs_tol=1e-4), (name, part, metric)
                rec1 = {r["probe_id"]: r["values"] for r in one[part]["records"] if r["probe_id"].endswith("#mechanism")}
                rec2 = {r["probe_id"]: r["values"] for r in rank[part]["records"] if r["probe_id"].endswith("#mechanism")}
                assert rec1.keys() == rec2.keys() and len(rec1) == 17, "every prompt once: padding repeats dropped"
                for pid, values in rec1.items():
                    for metric, v1 in values.items():
                        assert math.isclose(v1, rec2[pid][metric], rel_tol=1e-4, abs_tol=1e-4), (name, pid, metric)
    assert one["evaluation"]["metrics"]["driftguard/mechanism/direction_cosine"] < 0.9999, "the drift moved it"
