"""The hostile corpus (tests/sandbox_corpus/): each program is contained as root and as `nobody`, with the
audit hook and without it (the kernel cage alone), its result says why, and the run goes on to the next.

The unprivileged pass drops to `nobody` with setpriv. Neither the worktree nor the virtual environment
need be readable by nobody: the sandbox's modules, pyseccomp and the corpus are copied to a world-readable
temporary folder, and run by an interpreter whose every parent folder nobody may enter.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pyseccomp
import pytest

from evalhouse.ingest import sandbox, sandbox_child, sandbox_seccomp

CORPUS = Path(__file__).parent / "sandbox_corpus"
PROGRAMS = sorted(p.stem for p in CORPUS.glob("*.py") if not p.name.startswith("_"))
CANARY = "sk-canary-" + secrets.token_hex(8)
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
CAGE = {"root": "namespaces+seccomp", "nobody": "userns+seccomp"}

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="both passes start as root (CI runs as root)")


def world_usable(path: Path) -> bool:
    """Can any user reach and run `path` (every parent folder searchable by others)?"""
    real = Path(os.path.realpath(path))
    return real.exists() and all(p.stat().st_mode & stat.S_IXOTH for p in [real, *real.parents])


def python_for_nobody() -> str:
    """This interpreter when nobody can run it, else the system's: the sandbox only needs the standard library."""
    for candidate in (sys.executable, "/usr/bin/python3", "/usr/local/bin/python3"):
        if world_usable(Path(candidate)):
            return os.path.realpath(candidate)
    raise AssertionError("no Python interpreter that nobody may run (looked at this one, /usr/bin, /usr/local/bin)")


@pytest.fixture(scope="module")
def copied() -> Path:
    """The sandbox package, pyseccomp and the corpus in a folder every user can read (not under pytest's 0700 tmp)."""
    base = Path(tempfile.mkdtemp(prefix="evalhouse-corpus-copy-"))
    lib = base / "lib" / "evalhouse" / "ingest"
    lib.mkdir(parents=True)
    for init in (base / "lib" / "evalhouse" / "__init__.py", lib / "__init__.py"):
        init.touch()
    for module in (sandbox, sandbox_child, sandbox_seccomp):
        shutil.copy(module.__file__, lib)
    shutil.copy(pyseccomp.__file__, base / "lib")
    shutil.copytree(CORPUS, base / "corpus", ignore=shutil.ignore_patterns("__pycache__"))
    for path in [base, *base.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def run_corpus(copied: Path, user: str, audit: str, isolation: str = "auto") -> tuple[list[dict], str]:
    """Run the whole corpus as `user`; its JSON lines, and everything it printed."""
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": "/root" if user == "root" else "/nonexistent",
        "PYTHONPATH": str(copied / "lib"),
        "EVALHOUSE_API_KEY": CANARY,  # the collector's key: must never reach a program or its output
    }
    runner = str(copied / "corpus" / "_runner.py")
    if user == "root":  # the installed package: the code under test, in the project's interpreter
        argv = [sys.executable, runner]
        env.pop("PYTHONPATH")
    else:
        argv = [*NOBODY, python_for_nobody(), "-s", runner]
    done = subprocess.run(
        [*argv, str(copied / "corpus"), "--audit", audit, "--isolation", isolation],
        env=env,
        capture_output=True,
        text=True,
        timeout=500,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")], output


def assert_contained(rows: list[dict], output: str, isolation: str, uid: int) -> None:
    """One line per program, in order; none breached anything, each failed with a reason and its expected limit."""
    assert [r["program"] for r in rows] == PROGRAMS  # one line each: the run went on after every program
    assert CANARY not in output
    for row in rows:
        name = row["program"]
        assert row["breaches"] == [], (name, row)
        assert row["isolation"] == isolation, (name, row)
        assert row["user"] == uid
        assert row["status"] in ("killed", "timeout", "error"), (name, row)
        assert row["reason"], (name, row)
        if row["expect"]:
            assert row["limit"] in row["expect"].split("|"), (name, row)


def test_the_corpus_has_at_least_twenty_programs_each_with_a_docstring():
    """The corpus is large enough and every program says what it attempts."""
    assert len(PROGRAMS) >= 20
    for name in PROGRAMS:
        assert (CORPUS / f"{name}.py").read_text().startswith('"""'), name


@pytest.mark.slow
@pytest.mark.parametrize("audit", ["off", "on"], ids=["kernel-only", "with-hook"])
@pytest.mark.parametrize("user", ["root", "nobody"])
def test_every_hostile_program_is_contained(copied, user, audit):
    """Each program fails (status not ok) with a reason, reaches no listener, file, key or process outside,
    leaves no process behind, and the run goes on to the next; the canary key is never printed."""
    rows, output = run_corpus(copied, user, audit)
    assert_contained(rows, output, CAGE[user], 0 if user == "root" else 65534)
    for row in rows:
        name = row["program"]
        if audit == "on" and name.startswith(("tcp_", "udp_", "read_parent", "write_data", "symlink_")):
            assert row["limit"] in ("network", "filesystem"), (name, row)  # the hook names what it stopped


@pytest.mark.slow
def test_every_hostile_program_is_contained_by_landlock_alone(copied):
    """As nobody without namespaces (the fallback where user namespaces are off), the Landlock domain, the
    filter and the rlimits contain every program too, hook off."""
    rows, output = run_corpus(copied, "nobody", "off", isolation="landlock")
    assert_contained(rows, output, "landlock+seccomp", 65534)


@pytest.mark.slow
def test_a_same_user_process_cannot_read_the_collectors_environment(copied):
    """After run_code the caller is non-dumpable: a plain (unsandboxed) child of the same uid, nobody,
    cannot read its /proc/<pid>/environ or mem; before, it could."""
    done = subprocess.run(
        [*NOBODY, python_for_nobody(), "-s", str(copied / "corpus" / "_dumpable_probe.py")],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(copied / "lib"), "EVALHOUSE_API_KEY": CANARY},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=copied,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "PermissionError"]


@pytest.mark.slow
def test_without_user_namespaces_an_unprivileged_user_gets_landlock(copied):
    """When the user-namespace probe fails for nobody, the cage falls back to Landlock (not to basic), and
    programs run there and say so."""
    done = subprocess.run(
        [*NOBODY, python_for_nobody(), "-s", str(copied / "corpus" / "_fallback_probe.py")],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(copied / "lib")},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=copied,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "landlock|landlock+seccomp|42|user namespaces are off (test)"
