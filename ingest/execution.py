"""The code arm: run the program of the sim answer in the sandbox and grade what it prints.

No request is sent. The run happens in a small thread pool (`exec_workers`), since each program is a
sandboxed subprocess the event loop must not wait on; its row's `prompt` is the program and
`latency_ms` the run time.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from typing import Any

from .answers import Graded, grade_printed
from .problems import Problem
from .rows import grade_fields
from .sandbox import Limits, run_code


async def execute(pool: Executor, problem: Problem, code: str, unsafe_sandbox: bool = False) -> dict[str, Any]:
    """The fields of the code arm's row for `code` (run, then graded), with the cage it ran in."""
    limits = Limits(unsafe=unsafe_sandbox)
    result = await asyncio.get_running_loop().run_in_executor(pool, run_code, code, limits)
    fields = dict(
        response_text=result.stdout,
        latency_ms=result.duration_ms,
        exec_status=result.status,
        exec_exit_code=result.exit_code,
        exec_limit=result.limit,
        exec_stderr=result.stderr[-2000:],
        exec_isolation=result.isolation,
    )
    return fields | grade_fields(_grade(problem, result))


def _grade(problem: Problem, result) -> Graded:
    if not result.ok:
        limit = f" ({result.limit} limit)" if result.limit else ""
        return Graded(None, "exec_failed", "parse_error", result.reason or f"execution {result.status}{limit}")
    return grade_printed(problem.kind, problem.instance, result.stdout)
