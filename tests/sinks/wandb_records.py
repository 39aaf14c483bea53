"""Read what a W&B run wrote to its local ``.wandb`` transaction log (no server, no wandb API).

The file starts with a 7-byte header (b":W&B", uint16 0xBEE1, uint8 version 0) and is then a
LevelDB-style log: 32 KiB blocks of chunks ``crc32 (u32 LE) | length (u16 LE) | type (u8) | data``,
where the crc is zlib's CRC-32 over the type byte followed by the data. A record is one FULL chunk
or FIRST, MIDDLE..., LAST chunks joined; a block tail shorter than a chunk header is padding.
Each record is a ``wandb_internal_pb2.Record`` protobuf.

Reusable helpers: records, history, alerts, artifacts, summary, metrics, tags, run_file, table.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from wandb.proto import wandb_internal_pb2 as pb

FILE_HEADER = struct.Struct("<4sHB")
CHUNK_HEADER = struct.Struct("<IHB")
BLOCK_SIZE = 32 * 1024
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


class WandbLogError(ValueError):
    """The file is not a readable W&B transaction log."""


def _chunks(data: bytes, path: Path) -> Iterator[tuple[int, bytes]]:
    """(type, data) of each chunk; stops quietly at a truncated tail (a run still writing)."""
    pos = FILE_HEADER.size
    while pos + CHUNK_HEADER.size <= len(data):
        room = BLOCK_SIZE - pos % BLOCK_SIZE
        if room < CHUNK_HEADER.size:  # block trailer: padding
            pos += room
            continue
        crc, length, kind = CHUNK_HEADER.unpack_from(data, pos)
        if kind == 0 and length == 0:  # zero-filled rest of a block
            pos += room
            continue
        start = pos + CHUNK_HEADER.size
        payload = data[start:start + length]
        if len(payload) < length:
            return
        if zlib.crc32(payload, zlib.crc32(bytes([kind]))) != crc:
            raise WandbLogError(f"{path}: checksum mismatch in the chunk at byte {pos}")
        yield kind, payload
        pos = start + length


def records(path: str | Path) -> Iterator[pb.Record]:
    """Every Record of the log, in write order."""
    path = Path(path)
    data = path.read_bytes()
    if len(data) < FILE_HEADER.size or FILE_HEADER.unpack_from(data) != (b":W&B", 0xBEE1, 0):
        raise WandbLogError(f"{path}: not a W&B transaction log (bad header)")
    parts: list[bytes] | None = None
    for kind, payload in _chunks(data, path):
        if kind in (FULL, FIRST):
            parts = [payload]
        elif kind in (MIDDLE, LAST) and parts is not None:
            parts.append(payload)
        else:
            raise WandbLogError(f"{path}: chunk of type {kind} out of sequence")
        if kind in (FULL, LAST):
            record = pb.Record()
            record.ParseFromString(b"".join(parts))
            parts = None
            yield record


def _value(item: Any) -> Any:
    """The value of a HistoryItem / SummaryItem / ConfigItem (JSON or typed field)."""
    if item.value_json:
        return json.loads(item.value_json)
    typed = item.WhichOneof("value") if "value" in item.DESCRIPTOR.oneofs_by_name else None
    if typed in (None, "none"):
        return None
    value = getattr(item, typed)
    return json.loads(value) if typed == "json" else value


def _key(item: Any) -> list[str]:
    return [item.key] if item.key else list(item.nested_key)


def _nest(items: Sequence[Any], into: dict[str, Any] | None = None) -> dict[str, Any]:
    """Items keyed by ``key`` or ``nested_key`` (path) into a nested dict."""
    out = {} if into is None else into
    for item in items:
        *parents, leaf = _key(item)
        node = out
        for p in parents:
            child = node.get(p)
            if not isinstance(child, dict):
                child = node[p] = {}
            node = child
        node[leaf] = _value(item)
    return out


def history(path: str | Path) -> list[dict[str, Any]]:
    """The logged rows (``run.log`` calls), nested keys as nested dicts (e.g. a table's file ref)."""
    return [_nest(r.history.item) for r in records(path) if r.HasField("history")]


def summary(path: str | Path) -> dict[str, Any]:
    """The run summary after all updates and removals."""
    out: dict[str, Any] = {}
    for r in records(path):
        if r.HasField("summary"):
            _nest(r.summary.update, out)
            for item in r.summary.remove:
                *parents, leaf = _key(item)
                node: Any = out
                for p in parents:
                    node = node.get(p, {}) if isinstance(node, dict) else {}
                if isinstance(node, dict):
                    node.pop(leaf, None)
    return out


def alerts(path: str | Path) -> list[dict[str, Any]]:
    """``run.alert`` calls: title, text, level (INFO/WARN/ERROR), wait_duration (ms)."""
    return [{"title": r.alert.title, "text": r.alert.text, "level": r.alert.level,
             "wait_duration": r.alert.wait_duration} for r in records(path) if r.HasField("alert")]


def artifacts(path: str | Path) -> list[dict[str, Any]]:
    """Logged artifacts: name, type, aliases, metadata, files (manifest paths), digest."""
    out = []
    for r in records(path):
        if r.HasField("artifact"):
            a = r.artifact
            out.append({"name": a.name, "type": a.type, "aliases": list(a.aliases), "digest": a.digest,
                        "metadata": json.loads(a.metadata) if a.metadata else {},
                        "files": [c.path for c in a.manifest.contents],
                        "local_paths": [c.local_path for c in a.manifest.contents]})
    return out


def metrics(path: str | Path) -> list[dict[str, Any]]:
    """``run.define_metric`` calls: name or glob, step_metric, step_sync, summary ops."""
    out = []
    for r in records(path):
        if r.HasField("metric"):
            m = r.metric
            ops = [f.name for f, v in m.summary.ListFields() if v is True]
            out.append({"name": m.name or m.glob_name, "glob": bool(m.glob_name), "step_metric": m.step_metric,
                        "step_sync": m.options.step_sync, "summary": ops})
    return out


def tags(path: str | Path) -> list[str]:
    """The run's tags as last recorded."""
    last: list[str] = []
    for r in records(path):
        if r.HasField("run"):
            last = list(r.run.tags)
    return last


def run_file(wandb_dir: str | Path) -> Path:
    """The newest ``run-*.wandb`` under ``wandb_dir`` (the ``dir=`` given to wandb.init, or its wandb/)."""
    root = Path(wandb_dir)
    found = [*root.glob("wandb/*run-*/run-*.wandb"), *root.glob("*run-*/run-*.wandb")]
    if not found:
        raise FileNotFoundError(f"no run-*.wandb under {root}")
    return max(found, key=lambda p: p.stat().st_mtime)


def table(run_path: str | Path, ref: dict[str, Any]) -> dict[str, Any]:
    """The ``{"columns", "data"}`` of a table logged in history (``ref`` is the row's table-file entry)."""
    if ref.get("_type") != "table-file":
        raise ValueError(f"not a table-file reference: {ref!r}")
    return json.loads((Path(run_path).parent / "files" / ref["path"]).read_text())
