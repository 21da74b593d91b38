"""Fuzzing what users hand evalhouse: experiment specs (random bytes, random TOML, specs with every key) and
files to import (random bytes, random JSON and JSON lines, legacy records and CSV rows with random values,
harness logs with random parts replaced or removed, real files with bytes flipped or cut short).

Whatever comes in: no traceback, a spec is loaded or refused with a SpecError, an import ends in exit 0 or
one `Error:` line, and its counts reconcile (rows read = loaded + quarantined + superseded; harness
records read = loaded + quarantined). Deterministic by default (the same examples every run); set
EVALHOUSE_FUZZ_EXAMPLES=500 to search further with fresh examples.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalhouse.cli import main
from evalhouse.ingest.spec import SpecError, load_spec, make_config, spec_keys

from .conftest import SHARED

DEEP = int(os.environ.get("EVALHOUSE_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=DEEP or 30,
    derandomize=not DEEP,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
HARNESS = Path(__file__).parent / "fixtures" / "harness"
LEGACY = SHARED / "realdata" / "toolproj" / "src" / "exps_performance"
RES_JSONL = LEGACY / "previous_results/screening/qwen3-32b_seed0/tb/run_20260110_124857/res.jsonl"
RES_CSV = LEGACY / "previous_results/old_results/ministral-14b-2512_seed0/tb/run_20251205_185614/res.csv"
RUN_CSV = LEGACY / "deepseek2_smoke_again/run_20250924_005007_results_seed_0.csv"
RUN_CSV_NAME = "run_20250101_000000_results_seed_0.csv"

# -- values -------------------------------------------------------------------------------------------

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
awkward = st.sampled_from(["", "nan", "NaN", "-1", "1e400", "True", "None", "[]", "{}", "add", "nl", "code", "2"])
scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), text, awkward)
json_value = st.recursive(
    scalar, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)), max_leaves=6
)


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _paths(doc, prefix=(), out=None) -> list[tuple]:
    """Paths into a JSON document (the first few items of each list), to replace or remove one."""
    out = [] if out is None else out
    if len(out) > 400:
        return out
    items = doc.items() if isinstance(doc, dict) else enumerate(doc[:5]) if isinstance(doc, list) else []
    for key, value in items:
        out.append((*prefix, key))
        _paths(value, (*prefix, key), out)
    return out


@st.composite
def mutated(draw, doc):
    """`doc` with one to four of its values replaced by random JSON or removed."""
    doc = json.loads(json.dumps(doc))
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(doc)
        if not paths:
            break
        *parents, key = draw(st.sampled_from(paths))
        parent = doc
        for p in parents:
            parent = parent[p]
        if draw(st.booleans()) or not isinstance(parent, dict):
            parent[key] = draw(json_value)
        else:
            del parent[key]
    return doc


def _load(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


# -- specs --------------------------------------------------------------------------------------------


def _toml(value) -> str:
    """A TOML rendering of a JSON-like value (strings as JSON strings are valid TOML basic strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    return value.isoformat()


toml_scalar = st.one_of(
    st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1), st.floats(), text, st.dates()
)
toml_value = st.recursive(
    toml_scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=3)),
    max_leaves=8,
)
REQUIRED = ("model", "kinds", "digits", "n")
spec_like = st.fixed_dictionaries(
    {
        "model": st.one_of(text, st.lists(text, max_size=3)),
        "kinds": st.one_of(text, st.lists(st.sampled_from(["add", "sub", "lcs", "tsp", "nope"]), max_size=3)),
        "digits": st.one_of(st.integers(), st.lists(st.integers(), max_size=3), text),
        "n": st.one_of(st.integers(), st.floats(), text),
    },
    optional={key: toml_value for key in spec_keys() if key not in REQUIRED},
)


def _load_spec(tmp_path: Path, data: bytes) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_bytes(data)
    try:
        make_config(load_spec(spec), {})
    except SpecError as exc:
        assert str(exc).strip() and "\n" not in str(exc).strip()


@FUZZ
@given(data=st.binary(max_size=300))
def test_spec_of_random_bytes(tmp_path, data):
    """Random bytes (invalid UTF-8 too) as a spec: loaded or one SpecError."""
    _load_spec(tmp_path, data)


@FUZZ
@given(doc=st.dictionaries(st.one_of(st.sampled_from(spec_keys()), text), toml_value, max_size=8))
def test_spec_of_random_toml(tmp_path, doc):
    """Valid TOML with known and unknown keys and values of every TOML type: loaded or one SpecError."""
    _load_spec(tmp_path, "\n".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in doc.items()).encode())


@FUZZ
@given(doc=spec_like)
def test_spec_with_every_key(tmp_path, doc):
    """A spec with the required keys and any others, each of any type: loaded or one SpecError."""
    _load_spec(tmp_path, "\n".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in doc.items()).encode())


# -- imports ------------------------------------------------------------------------------------------

COUNTS = ("rows_read", "rows_loaded", "rows_quarantined", "rows_superseded")


def _import(tmp_path: Path, files: dict[str, bytes], model: str | None = "m/x") -> None:
    """Import `files` (name -> bytes) from a fresh folder into a fresh data folder, through the CLI."""
    folder = tmp_path / f"example-{os.urandom(6).hex()}"  # hypothesis runs many examples in one tmp_path
    for name, data in files.items():
        (folder / "given" / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / "given" / name).write_bytes(data)
    env = {"EVALHOUSE_DATA": str(folder / "data"), "EVALHOUSE_WAREHOUSE": str(folder / "wh.duckdb")}
    args = ["ingest", "import", str(folder / "given"), "--no-progress", "--json"]
    result = CliRunner().invoke(main, [*args, *(["--model", model] if model else [])], env=env)
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    if result.exit_code != 0:
        assert len(errors) == 1, result.output
    else:
        assert not errors, result.output
    if result.stdout.strip():
        summary = json.loads(result.stdout)
        read, loaded, quarantined, superseded = (summary[name] for name in COUNTS)
        assert read == loaded + quarantined + superseded, summary
        assert (
            summary["harness_records_read"]
            == summary["harness_records_loaded"] + summary["harness_records_quarantined"]
        )
        assert summary["reconciles"], summary
    shutil.rmtree(folder)


NAMES = ["res.jsonl", "res.csv", RUN_CSV_NAME, "x.eval", "results_x.json", "a.jsonl", "run_spec.json", "b.json"]


@FUZZ
@given(name=st.sampled_from(NAMES), data=st.binary(max_size=300))
def test_import_of_random_bytes(tmp_path, name, data):
    """Random bytes under every name a format is recognised by (an .eval starts as a zip does)."""
    _import(tmp_path, {name: (b"PK\x03\x04" + data) if name.endswith(".eval") else data})


@FUZZ
@given(
    name=st.sampled_from(["res.jsonl", "a.json", "results_2024.json", "x_samples.jsonl"]),
    values=st.lists(json_value, max_size=4),
)
def test_import_of_random_json(tmp_path, name, values):
    """Random JSON values, one a line, as JSON and JSON-lines files."""
    _import(tmp_path, {name: "\n".join(dumps(v) for v in values).encode()})


_RES_RECORDS = [json.loads(line) for line in RES_JSONL.read_text(encoding="utf-8").splitlines()[:3]]


@FUZZ
@given(records=st.lists(st.one_of(*[mutated(r) for r in _RES_RECORDS], json_value), min_size=1, max_size=4))
def test_import_of_res_jsonl_records(tmp_path, records):
    """res.jsonl records with values replaced by random JSON or removed, among random lines."""
    _import(tmp_path, {"res.jsonl": "\n".join(dumps(r) for r in records).encode()})


cell = st.one_of(
    text, st.sampled_from(["", "nan", "True", "1", "0", "-3", "1e309", "None", "{'ok': True, 'value': 3}", "\n", '"'])
)


@st.composite
def csv_file(draw, source: Path):
    """Rows of a real CSV with random cells replaced, a few cut short, under a header with names changed."""
    rows = list(csv.reader(io.StringIO(source.read_text(encoding="utf-8"))))
    header = list(rows[0])
    for _ in range(draw(st.integers(0, 2))):
        header[draw(st.integers(0, len(header) - 1))] = draw(
            st.one_of(text, st.sampled_from(["model", "seed", "kind"]))
        )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in draw(st.lists(st.sampled_from(rows[1:6]), min_size=1, max_size=4)):
        row = list(row)
        for _ in range(draw(st.integers(0, 4))):
            row[draw(st.integers(0, len(row) - 1))] = draw(cell)
        writer.writerow(row[: draw(st.integers(0, len(row)))] if draw(st.integers(0, 9)) == 0 else row)
    return out.getvalue().encode()


@FUZZ
@given(data=csv_file(RES_CSV))
def test_import_of_res_csv_rows(tmp_path, data):
    """res.csv rows with random cells, wrong field counts and renamed columns."""
    _import(tmp_path, {"res.csv": data})


@FUZZ
@given(data=csv_file(RUN_CSV))
def test_import_of_per_run_csv_rows(tmp_path, data):
    """Older per-run CSV rows with random cells (the exec column's dict too), wrong field counts."""
    _import(tmp_path, {RUN_CSV_NAME: data})


_EEE = sorted((HARNESS / "eee" / "data" / "arith_gen").rglob("*.json"))[0]
_EEE_LINES = [json.loads(line) for line in _EEE.with_name(_EEE.stem + "_samples.jsonl").read_text().splitlines()[:3]]
_LM = HARNESS / "lm_eval" / "meta-llama__Llama-3.1-8B-Instruct"
_LM_RESULTS = next(_LM.glob("results_*.json"))
_LM_SAMPLES = next(_LM.glob("samples_arith_gen_*.jsonl"))
_LM_LINES = [json.loads(line) for line in _LM_SAMPLES.read_text().splitlines()[:3]]
_HELM = HARNESS / "helm" / "runs" / "test" / "simple1:model=simple_model1"
_HELM_FILES = ("run_spec.json", "stats.json", "scenario_state.json", "per_instance_stats.json")


@FUZZ
@given(aggregate=mutated(_load(_EEE)), lines=st.lists(st.one_of(*[mutated(x) for x in _EEE_LINES]), max_size=3))
def test_import_of_every_eval_ever_files(tmp_path, aggregate, lines):
    """An Every Eval Ever aggregate and its instance lines, each with values replaced or removed."""
    files = {"e.json": dumps(aggregate).encode()}
    if lines:
        files["e_samples.jsonl"] = "\n".join(dumps(x) for x in lines).encode()
    _import(tmp_path, files)


@FUZZ
@given(results=mutated(_load(_LM_RESULTS)), lines=st.lists(st.one_of(*[mutated(x) for x in _LM_LINES]), max_size=3))
def test_import_of_lm_eval_output(tmp_path, results, lines):
    """lm-eval's results file and a samples file beside it, each with values replaced or removed."""
    _import(
        tmp_path,
        {_LM_RESULTS.name: dumps(results).encode(), _LM_SAMPLES.name: "\n".join(dumps(x) for x in lines).encode()},
    )


@st.composite
def helm_run(draw):
    docs = {name: _load(_HELM / name) for name in _HELM_FILES}
    return {
        f"run/{name}": dumps(draw(mutated(doc)) if name == "run_spec.json" or draw(st.booleans()) else doc).encode()
        for name, doc in docs.items()
    }


@FUZZ
@given(files=helm_run())
def test_import_of_helm_run_folders(tmp_path, files):
    """A HELM run folder whose run spec (and some of its other files) have values replaced or removed."""
    _import(tmp_path, files)


@pytest.fixture(scope="module")
def inspect_logs(tmp_path_factory) -> dict[str, Path]:
    """Real inspect logs (mockllm, offline), written once."""
    from .harness_logs import write_logs

    return write_logs(tmp_path_factory.mktemp("inspect"))


@FUZZ
@given(data=st.data())
def test_import_of_inspect_logs(tmp_path, inspect_logs, data):
    """An inspect .json log with values replaced or removed, and an .eval whose members are replaced,
    removed or mutated."""
    log = _load(inspect_logs["arith-b"])
    _import(tmp_path, {"log.json": dumps(data.draw(mutated(log))).encode()})
    from evalhouse.ingest.harness.zipread import Archive

    with Archive(inspect_logs["arith-a"]) as archive:
        members = {name: archive.read(name) for name in archive.names()}
    for name in data.draw(st.lists(st.sampled_from(sorted(members)), min_size=1, max_size=3, unique=True)):
        action = data.draw(st.sampled_from(["remove", "bytes", "mutate"]))
        if action == "remove":
            del members[name]
        elif action == "bytes":
            members[name] = data.draw(st.binary(max_size=50))
        else:
            members[name] = dumps(data.draw(mutated(json.loads(members[name])))).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    _import(tmp_path, {"log.eval": buffer.getvalue()})


@FUZZ
@given(data=st.data())
def test_import_of_real_files_with_bytes_flipped_or_cut(tmp_path, inspect_logs, data):
    """Real files of every format with random bytes changed and the end cut off at a random byte."""
    sources = {
        "log.eval": inspect_logs["arith-a"].read_bytes(),
        "res.jsonl": b"\n".join(RES_JSONL.read_bytes().splitlines()[:3]),
        "res.csv": RES_CSV.read_bytes()[:20000],
        RUN_CSV_NAME: RUN_CSV.read_bytes()[:20000],
        "e.json": _EEE.read_bytes(),
        _LM_RESULTS.name: _LM_RESULTS.read_bytes(),
        "log.json": inspect_logs["arith-b"].read_bytes(),
    }
    name = data.draw(st.sampled_from(sorted(sources)))
    content = bytearray(sources[name])
    for _ in range(data.draw(st.integers(1, 8))):
        content[data.draw(st.integers(0, len(content) - 1))] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        content = content[: data.draw(st.integers(0, len(content)))]
    files = {name: bytes(content)}
    if name == _LM_RESULTS.name:
        files[_LM_SAMPLES.name] = _LM_SAMPLES.read_bytes()
    _import(tmp_path, files)
