"""Model-written code is hostile: each hostile program is stopped, recorded with its reason, and the host goes on.

Most cases run twice: with the full sandbox, and with the audit hook off, to show the kernel cage
(namespaces, read-only root, fresh uid) holds on its own.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from evalhouse.ingest import sandbox
from evalhouse.ingest.sandbox import _UIDS, Limits, SandboxUnavailable, run_code

FAST = Limits(wall_s=10, cpu_s=2)
KERNEL_ONLY = Limits(wall_s=10, cpu_s=2, audit=False)


@pytest.fixture
def own_uid(monkeypatch) -> int:
    """Pin the uid this test's programs run as, so counts ignore other sandboxes on the machine."""
    uid = random.randrange(*_UIDS)
    monkeypatch.setattr(sandbox, "_fresh_uid", lambda: uid)
    return uid


def sandbox_processes(uid: int) -> int:
    """Processes on the host that run as `uid`."""
    count = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/status") as fh:
                found = next(int(line.split()[1]) for line in fh if line.startswith("Uid:"))
        except (OSError, StopIteration):
            continue
        count += found == uid
    return count


def test_a_normal_program_runs():
    """Standard-library code reads and writes its own folder and prints JSON; nothing is flagged."""
    code = (
        "import json, math, heapq, itertools, functools, collections, decimal, fractions, re, random, bisect, hashlib\n"
        "with open('notes.txt', 'w') as fh:\n    fh.write('kept')\n"
        "import tempfile\nwith tempfile.NamedTemporaryFile('w', delete=False) as fh:\n    fh.write('x')\n"
        "print(json.dumps({'n': math.comb(40, 20), 'notes': open('notes.txt').read(), 'h': hashlib.sha256(b'a').hexdigest()[:6]}))\n"
    )
    result = run_code(code, FAST)
    assert result.status == "ok", result.stderr
    assert json.loads(result.stdout) == {"n": 137846528820, "notes": "kept", "h": "ca9781"}
    assert result.limit is None and result.exit_code == 0


def test_isolation_is_the_kernel_cage_with_the_filter():
    """Programs get the kernel cage (namespaces as root, a user namespace otherwise) and the seccomp filter."""
    result = run_code("print(1)", FAST)
    assert result.isolation == ("namespaces" if os.geteuid() == 0 else "userns") + "+seccomp"


def test_an_exception_is_an_error_with_its_message():
    """A crashing program is `error` (not a sandbox stop), with the exception as its reason."""
    result = run_code("def f():\n    return 1 / 0\nprint(f())", FAST)
    assert (result.status, result.limit, result.exit_code) == ("error", None, 1)
    assert result.reason == "ZeroDivisionError: division by zero"
    assert 'main.py", line 2' in result.stderr


@pytest.mark.parametrize("limits", [FAST, KERNEL_ONLY], ids=["full", "kernel"])
def test_infinite_loop_hits_the_cpu_limit(limits):
    """A busy loop is killed at its CPU limit."""
    result = run_code("while True:\n    pass", Limits(wall_s=20, cpu_s=1, audit=limits.audit))
    assert (result.status, result.limit) == ("killed", "cpu")


def test_sleeping_forever_hits_the_wall_limit():
    """A program that waits without using CPU is stopped at the wall-clock limit."""
    result = run_code("import time\nprint('started', flush=True)\ntime.sleep(60)", Limits(wall_s=1))
    assert (result.status, result.limit) == ("timeout", "wall")
    assert result.stdout == "started\n"
    assert result.duration_ms < 10_000


@pytest.mark.parametrize("limits", [FAST, KERNEL_ONLY], ids=["full", "kernel"])
def test_ten_gigabytes_is_refused(limits):
    """A 10 GB allocation fails at once under the memory cap."""
    result = run_code("x = bytearray(10 * 1024 ** 3)\nprint(len(x))", limits)
    assert (result.status, result.limit) == ("killed", "memory")
    assert result.stdout == ""


def test_memory_is_capped_across_processes(own_uid):
    """Several processes that each stay under the per-process cap are stopped when together they pass it."""
    code = (
        "import os, time\n"
        "for _ in range(4):\n"
        "    if os.fork() == 0:\n"
        "        block = bytearray(120 * 1024 * 1024)\n"
        "        time.sleep(30)\n"
        "time.sleep(30)\n"
    )
    result = run_code(code, Limits(wall_s=20, memory_mb=256, processes=8))
    assert (result.status, result.limit) == ("killed", "memory")
    assert "all its processes together" in result.reason
    time.sleep(0.2)
    assert sandbox_processes(own_uid) == 0


def test_filling_the_disk_stops_at_the_folder_cap():
    """Many files under the per-file cap still cannot fill the host's disk: the folder itself is capped."""
    code = "block = b'x' * (8 << 20)\nfor i in range(1000):\n    open(f'f{i}.bin', 'wb').write(block)\n"
    result = run_code(code, Limits(wall_s=20, folder_mb=32, file_mb=16))
    assert (result.status, result.limit) == ("killed", "file")
    assert "folder is full" in result.reason


def test_orphans_die_with_the_program(own_uid):
    """A child that detaches (setsid) and outlives the program is killed when the program ends."""
    code = "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(60)\nprint('parent done')\n"
    start = time.monotonic()
    result = run_code(code, Limits(wall_s=20))
    assert result.ok and result.stdout == "parent done\n"
    assert time.monotonic() - start < 10
    time.sleep(0.2)
    assert sandbox_processes(own_uid) == 0


def test_printing_a_gigabyte_is_cut_off():
    """Output is read as it comes and the program is killed at the cap, long before 1 GB."""
    code = "import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(1024):\n    sys.stdout.write(chunk)\n"
    start = time.monotonic()
    result = run_code(code, Limits(wall_s=10, output_bytes=1 << 20))
    assert (result.status, result.limit) == ("killed", "output")
    assert len(result.stdout) == 1 << 20
    assert time.monotonic() - start < 15


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text("the-api-key-is-sk-12345")
    return path


def test_reading_outside_its_folder_is_blocked(secret):
    """Reading a file outside the folder stops the program and names the file."""
    result = run_code(f"print(open({str(secret)!r}).read())", FAST)
    assert (result.status, result.limit) == ("killed", "filesystem")
    assert str(secret) in result.reason and "sk-12345" not in result.stdout
    passwd = run_code("print(open('/etc/passwd').read())", FAST)
    assert (passwd.status, passwd.limit) == ("killed", "filesystem") and "root:" not in passwd.stdout


def test_outside_files_do_not_exist_in_the_kernel_cage(secret):
    """Without the hook, the files are simply not there: the root holds only system libraries."""
    code = (
        "import os\n"
        f"print(os.path.exists({str(secret)!r}), os.path.exists('/etc/passwd'), os.path.exists('/work'), "
        "os.path.exists('/root/.ssh'), sorted(os.listdir('/')))\n"
    )
    result = run_code(code, KERNEL_ONLY)
    assert result.status == "ok", result.stderr
    assert result.stdout.startswith("False False False False")


@pytest.mark.parametrize("limits", [FAST, KERNEL_ONLY], ids=["full", "kernel"])
def test_writing_outside_its_folder_is_blocked(tmp_path, limits):
    """Writes outside the folder fail and leave nothing on the host."""
    target = tmp_path / "planted.txt"
    result = run_code(
        f"open({str(target)!r}, 'w').write('x')\nopen('/planted.txt', 'w').write('x')\nopen('/tmp/planted.txt', 'w').write('x')",
        limits,
    )
    assert result.status in ("killed", "error") and not result.ok
    if limits.audit:
        assert result.limit == "filesystem"
    assert not target.exists() and not os.path.exists("/planted.txt")


@pytest.mark.parametrize("limits", [FAST, KERNEL_ONLY], ids=["full", "kernel"])
def test_no_network(limits):
    """A socket to a server listening on the host's loopback never connects."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.2)
        port = server.getsockname()[1]
        code = f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=1)\ns.sendall(b'leak')\nprint('sent')"
        result = run_code(code, limits)
        with pytest.raises(socket.timeout):
            server.accept()
    assert not result.ok and result.stdout == ""
    assert result.limit == "network" or "Errno" in result.reason


def test_starting_programs_is_blocked():
    """os.system and subprocess stop the program under the hook; without it the shell sees no host files."""
    result = run_code(
        "import subprocess\nprint(subprocess.run(['cat', '/etc/hostname'], capture_output=True).stdout)", FAST
    )
    assert (result.status, result.limit) == ("killed", "subprocess")
    escaped = run_code("import os\nos.system('cat /etc/passwd; ls /work')", KERNEL_ONLY)
    assert "root:" not in escaped.stdout and "wt" not in escaped.stdout


def test_loading_c_code_is_blocked():
    """ctypes (which could undo the hook) stops the program."""
    result = run_code("import ctypes\nprint(ctypes.CDLL(None).getpid())", FAST)
    assert (result.status, result.limit) == ("killed", "ctypes")


def test_fork_bomb_is_capped_and_cleaned_up(own_uid):
    """A fork bomb never exceeds the process cap, is stopped with that reason, and leaves no process behind."""
    peak, stop = [0], threading.Event()

    def watch():
        while not stop.is_set():
            peak[0] = max(peak[0], sandbox_processes(own_uid))
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        crashing = run_code("import os\nwhile True:\n    os.fork()", Limits(wall_s=2, processes=8))
        stubborn = run_code(
            "import os, time\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        time.sleep(0.01)",
            Limits(wall_s=1.5, processes=8),
        )
    finally:
        stop.set()
        watcher.join()
    assert (crashing.status, crashing.limit) == ("killed", "processes")
    assert stubborn.status in ("timeout", "killed") and stubborn.limit in ("wall", "processes")
    assert 0 < peak[0] <= 8
    time.sleep(0.2)
    assert sandbox_processes(own_uid) == 0
    assert subprocess.run(["true"]).returncode == 0  # the host can still start processes


def test_runs_in_parallel_threads_are_independent():
    """The collector's worker pool calls run_code from threads; each run gets its own folder and output."""
    codes = [
        f"open('me.txt', 'w').write('{i}')\nimport time; time.sleep(0.2)\nprint(open('me.txt').read())"
        for i in range(6)
    ]
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda c: run_code(c, FAST), codes))
    assert [r.stdout.strip() for r in results] == [str(i) for i in range(6)]


def test_basic_isolation_still_stops_hostile_code(secret):
    """Without namespaces (non-root machines) the rlimits and the hook still stop reads, sockets and allocations."""
    basic = Limits(wall_s=20, cpu_s=1, isolation="basic")
    assert run_code("print(2 + 2)", basic).stdout == "4\n"
    assert run_code(f"open({str(secret)!r}).read()", basic).limit == "filesystem"
    assert run_code("import socket\nsocket.socket().connect(('127.0.0.1', 9))", basic).limit == "network"
    assert run_code("bytearray(10 * 1024 ** 3)", basic).limit == "memory"
    assert run_code("while True: pass", basic).limit == "cpu"


def test_the_filter_is_installed_and_can_be_switched_off():
    """The program runs in seccomp filter mode (PR_GET_SECCOMP = 2) unless the filter is off, and says so."""
    code = "import ctypes\nprint(ctypes.CDLL(None).prctl(21, 0, 0, 0, 0))"
    on = run_code(code, KERNEL_ONLY)
    off = run_code(code, Limits(wall_s=10, audit=False, seccomp=False))
    assert (on.stdout, off.stdout) == ("2\n", "0\n")
    assert on.isolation.endswith("+seccomp") and not off.isolation.endswith("+seccomp")


def test_new_namespaces_are_refused_inside():
    """unshare() of a user namespace (the first step of most container escapes) fails in the cage."""
    code = "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nassert libc.unshare(0x10000000) == 0, os.strerror(ctypes.get_errno())"
    for limits in (KERNEL_ONLY, Limits(wall_s=10, audit=False, seccomp=False)):
        result = run_code(code, limits)
        assert not result.ok and "Operation not permitted" in result.stderr, result


def test_the_program_environment_is_the_allow_list(monkeypatch):
    """Nothing of the caller's environment reaches the program: not the API key, not PYTHONPATH."""
    monkeypatch.setenv("EVALHOUSE_API_KEY", "sk-canary-env-0123456789")
    result = run_code("import os, json\nprint(json.dumps(dict(os.environ)))", FAST)
    env = json.loads(result.stdout)
    assert set(env) == {*sandbox.CHILD_ENV, "TMPDIR"}
    assert "sk-canary" not in result.stdout


def test_the_caller_is_made_non_dumpable():
    """After run_code the calling process is non-dumpable, so its /proc files are closed to its own uid."""
    import ctypes

    run_code("print(1)", FAST)
    assert ctypes.CDLL(None).prctl(3, 0, 0, 0, 0) == 0  # PR_GET_DUMPABLE


def test_basic_isolation_is_refused_unless_allowed(monkeypatch):
    """Where only rlimits would hold, auto isolation refuses with the remedy; `unsafe` runs it, and says so."""
    monkeypatch.setattr(sandbox, "best_cage", lambda: ("basic", "user namespaces are off (test)"))
    with pytest.raises(SandboxUnavailable, match="--unsafe-sandbox"):
        run_code("print(1)", FAST)
    with pytest.raises(SandboxUnavailable, match="user namespaces are off"):
        sandbox.require(unsafe=False)
    assert sandbox.require(unsafe=True) == "basic"
    result = run_code("print(1)", Limits(wall_s=10, unsafe=True))
    assert result.ok and result.isolation == "basic+seccomp"


def test_basic_isolation_still_has_no_sockets():
    """Even the basic fallback has no network: the filter refuses every socket, with the hook off too."""
    code = "import socket\nsocket.socket(socket.AF_INET, socket.SOCK_STREAM).connect(('127.0.0.1', 9))"
    result = run_code(code, Limits(wall_s=10, isolation="basic", audit=False))
    assert (result.status, result.limit) == ("killed", "network")


def test_userns_is_not_a_cage_for_root():
    """As root the cage is `namespaces` (a fresh uid); asking for `userns` is a programming error."""
    if os.geteuid() != 0:
        assert run_code("print(1)", Limits(wall_s=10, isolation="userns")).isolation.startswith("userns")
        return
    with pytest.raises(ValueError, match="as root"):
        run_code("print(1)", Limits(isolation="userns"))


def test_ingest_run_refuses_the_code_arm_without_a_sandbox(workdir, server, monkeypatch):
    """`ingest run` with the code arm and only basic isolation stops before any request with one Error line;
    --unsafe-sandbox runs it, and every code row records the isolation it ran under."""
    from click.testing import CliRunner

    from evalhouse.cli import main

    from .collector_kit import stored

    monkeypatch.setattr(sandbox, "best_cage", lambda: ("basic", "user namespaces are off (test)"))
    args = ["ingest", "run", "--base-url", server.url, "--model", "synthetic/atlas-large", "--kinds", "add"]
    args += ["--digits", "2", "--n", "3", "--arms", "sim,code", "--no-progress", "--no-preflight"]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 1 and refused.output.startswith("Error: code arm: no sandbox"), refused.output
    assert "--unsafe-sandbox" in refused.output and "Traceback" not in refused.output
    assert server.stats["requests"] == 0 and stored(workdir) == []
    allowed = CliRunner().invoke(main, [*args, "--unsafe-sandbox"])
    assert allowed.exit_code == 0, allowed.output
    rows = stored(workdir, "arm, exec_isolation, exec_status", "arm = 'code'")
    assert len(rows) == 3 and {r[1] for r in rows} == {"basic+seccomp"}, rows


def test_code_rows_record_the_cage(workdir, server):
    """A collected code row stores the cage its program ran in."""
    from evalhouse.ingest.collector import collect

    from .collector_kit import fast_config, stored

    collect(fast_config(server.url, arms=["sim", "code"], n=2), workdir, api_key=None)
    cage = "namespaces" if os.geteuid() == 0 else "userns"
    assert stored(workdir, "distinct exec_isolation", "arm = 'code'") == [(f"{cage}+seccomp",)]
