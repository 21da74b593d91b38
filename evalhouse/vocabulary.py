"""The project's vocabulary, stated once: arms, error classes and the response id.

Every other place (the collector, the importers, the dbt seeds, the report) takes these from here. The
seed `seeds/arms.csv` is generated from `ARMS` (`python -m evalhouse.vocabulary`), and a test checks that
the committed seed still matches. Kind families live with the kinds (`evalhouse.ingest.problems`), whose
seed `kind_families.csv` is generated the same way.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from evalhouse.files import write_atomic


@dataclass(frozen=True)
class Arm:
    """One way of asking a problem."""

    code: str
    label: str  # for tables and figures
    order: int  # presentation order, 1-based
    is_request: bool  # sent to the provider (code is not: it runs the sim answer's program)
    runs_code: bool  # the answer comes from executing code in the sandbox
    description: str


ARMS: tuple[Arm, ...] = (
    Arm("nl", "NL", 1, True, False, "Natural-language chain of thought; no code"),
    Arm("sim", "Sim", 2, True, False, "The model writes code and simulates it itself"),
    Arm(
        "controlsim", "ControlSim", 3, True, False, "The model simulates the code of the sim answer to the same problem"
    ),
    Arm("code", "Code", 4, False, True, "The code of the sim answer, executed in the sandbox"),
)
ARM_CODES: tuple[str, ...] = tuple(a.code for a in ARMS)
REQUEST_ARMS: tuple[str, ...] = tuple(a.code for a in ARMS if a.is_request)
CODE_ARMS: tuple[str, ...] = tuple(a.code for a in ARMS if a.runs_code)
ARM_LABELS: dict[str, str] = {a.code: a.label for a in ARMS}
# arms whose row depends on the sim answer of the same (model, problem, seed, sample)
DEPENDENT_ARMS: tuple[str, ...] = ("controlsim", "code")


def arm_order(arms) -> list[str]:
    """Arms in presentation order; arms outside the vocabulary (imports) follow, sorted."""
    present = set(arms)
    return [a for a in ARM_CODES if a in present] + sorted(present - set(ARM_CODES))


# Why a request has no answer (`error_class` of a stored row). The collector's exceptions carry these
# names; marts.run_health counts them.
ERROR_CLASSES: dict[str, str] = {
    "rate_limited": "429 from the provider, after every retry",
    "server_error": "5xx from the provider, after every retry",
    "timeout": "no complete reply within the request timeout",
    "connection": "the connection failed or dropped",
    "malformed_body": "a reply that is not the protocol's JSON",
    "provider_error": "an error the provider reported inside a 200 body",
    "empty_content": "empty content with a normal stop, after every retry",
    "client_error": "a 4xx other than 429: the request itself was refused",
    "refused": "the key was rejected or the credit ran out: the run stopped",
    "api_error": "any other failure of the request",
}

# response_id: a hash of what identifies one response. The importers compute the same hash in SQL
# (`response_id_sql`); a test checks that the two agree.
RESPONSE_ID_FIELDS = ("model", "problem_id", "arm", "seed", "sample")
_RESPONSE_ID_LENGTH = 32


def response_id(model: str, problem_id: str, arm: str, seed: int, sample: int = 0) -> str:
    """The deterministic key of one response: the dedup key of every stored row."""
    key = "|".join(str(v) for v in (model, problem_id, arm, seed, sample))
    return hashlib.sha256(key.encode()).hexdigest()[:_RESPONSE_ID_LENGTH]


def response_id_sql(model: str, problem_id: str, arm: str, seed: str, sample: str = "0") -> str:
    """The same hash as `response_id`, as a DuckDB expression over the given SQL expressions."""
    parts = " || '|' || ".join(f"cast({e} as varchar)" for e in (model, problem_id, arm, seed, sample))
    return f"left(sha256({parts}), {_RESPONSE_ID_LENGTH})"


SEED_ARMS = Path(__file__).resolve().parent.parent / "seeds" / "arms.csv"


def arms_seed_csv() -> str:
    """The text of seeds/arms.csv, generated from ARMS."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["arm", "label", "arm_order", "is_request", "runs_code", "description"])
    for a in ARMS:
        writer.writerow([a.code, a.label, a.order, str(a.is_request).lower(), str(a.runs_code).lower(), a.description])
    return out.getvalue()


if __name__ == "__main__":
    write_atomic(SEED_ARMS, arms_seed_csv())
    print(f"wrote {SEED_ARMS}")
