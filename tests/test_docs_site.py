"""The docs site builds offline with ``mkdocs build --strict``, every nav page is in the output, and the
configuration reference (generated from the code at build time) lists every ``DriftGuardConfig`` field."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _nav_pages(nav) -> list[str]:
    """Every Markdown page named in mkdocs.yml's nav, nested sections included."""
    pages: list[str] = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        if isinstance(value, list):
            pages += _nav_pages(value)
        elif isinstance(value, str) and value.endswith(".md"):
            pages.append(value)
    return pages


def _output_html(site: Path, page: str) -> Path:
    """Where mkdocs (use_directory_urls) writes a page: index.md -> index.html, a.md -> a/index.html."""
    stem = page[: -len(".md")]
    if stem == "index" or stem.endswith("/index"):
        return site / stem.rsplit("index", 1)[0] / "index.html"
    return site / stem / "index.html"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                           "-d", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    return out


def test_every_nav_page_is_built(site):
    from mkdocs.config import load_config

    nav = load_config(str(ROOT / "mkdocs.yml")).nav
    pages = _nav_pages(nav)
    assert "configuration.md" in pages and "index.md" in pages
    missing = [p for p in pages if not _output_html(site, p).is_file()]
    assert not missing, f"nav pages missing from the build: {missing}"


def test_configuration_reference_lists_every_field(site):
    from driftguard.config import DriftGuardConfig

    html = (site / "configuration" / "index.html").read_text()
    fields = [f.name for f in dataclasses.fields(DriftGuardConfig)]
    missing = [name for name in fields if f'id="{name}"' not in html or f"<code>{name}</code>" not in html]
    assert not missing, f"configuration reference lacks fields: {missing}"
    for f in dataclasses.fields(DriftGuardConfig):  # each field's help text is carried over
        if f.metadata.get("help"):
            assert f.metadata["help"].split()[0] in html, f.name


def test_metrics_page_lists_the_registry(site):
    from driftguard.metrics import METRICS

    html = (site / "metrics" / "index.html").read_text()
    assert "driftguard:metric-registry" not in html
    missing = [name for name in METRICS if f"<code>{name}</code>" not in html]
    assert not missing, f"metrics page lacks registry metrics: {missing}"
