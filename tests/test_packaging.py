"""One distribution, `evalhouse`; the contract's folders import under the evalhouse namespace."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from .conftest import REPO

pytestmark = pytest.mark.slow


def test_editable_install_imports_from_the_source_tree():
    import evalhouse.analysis.mixedlm
    import evalhouse.ingest.collector

    assert evalhouse.ingest.collector.__file__.startswith(str(REPO / "ingest"))
    assert evalhouse.analysis.mixedlm.__file__.startswith(str(REPO / "analysis"))


def test_built_wheel_installs_and_imports(tmp_path):
    """The wheel holds evalhouse/ingest and evalhouse/analysis (and their SQL files), no bare top-level packages,
    and imports."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(REPO)],
        check=True,
        capture_output=True,
    )
    wheel = next((tmp_path / "dist").glob("evalhouse-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert tops == {"evalhouse"}
    assert "evalhouse/ingest/collector.py" in names and "evalhouse/analysis/mixedlm.py" in names
    assert "evalhouse/ingest/importers/sql/responses.sql" in names and "evalhouse/sql/export_runs.sql" in names
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import evalhouse.ingest.collector as c, evalhouse.analysis.mixedlm as m, evalhouse.cli; "
            "from evalhouse.ingest.importers.statements import SQL; assert 'response_id(' in SQL('responses.sql'); "
            "print(c.__file__); print(m.__file__)",
        ],
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert all(line.startswith(str(site)) for line in out.stdout.split())
