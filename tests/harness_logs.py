"""Real inspect_ai logs for the harness-import tests, written by inspect itself (mockllm model, offline).

`write_logs(folder)` runs two small tasks through `inspect_ai.eval` with two mock "models" whose answers
are decided by the question (so each model is right on its own items): `arc_easy_mini` (the same twelve
multiple-choice items as the lm-eval fixture, scored by `choice`) and `arith` (free answers, two scorers,
two epochs). From those real logs it derives, with inspect's own reader and writer, a log whose sample
list is cut short, one with no samples, one with a score inspect cannot read as a number, and one
still in progress (no header: what a killed run leaves). `big_log` writes an N-sample log the same way.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "harness"
MODEL_A = "mockllm/meta-llama/Llama-3.1-8B-Instruct"
MODEL_B = "mockllm/mistralai/Mistral-7B-Instruct"
# The registry ids the import resolves them to
ID_A = "meta-llama/llama-3.1-8b-instruct"
ID_B = "mistralai/mistral-7b-instruct"


def _knows(model: str, question: str) -> bool:
    """Whether the mock model answers this question right (about two in three, differently per model)."""
    return hashlib.sha256(f"{model}|{question}".encode()).digest()[0] % 3 != 0


def _mock(model: str):
    from inspect_ai.model import ModelOutput, ModelUsage, get_model

    def answer(messages, tools, tool_choice, config):
        prompt = messages[-1].text
        if "What is " in prompt and " times " in prompt:  # arc_easy_mini: the right choice is always A
            letter = "A" if _knows(model, prompt.split("What is ")[1].split("?")[0]) else "C"
            text = f"ANSWER: {letter}"
        else:  # arith: "Compute a plus b."
            a, b = (int(x) for x in prompt.split("Compute ")[1].rstrip(".").split(" plus "))
            text = f"The answer is {a + b if _knows(model, prompt) else a + b + 1}"
        out = ModelOutput.from_content(model=model.split("/", 1)[1], content=text)
        # usage given, so mockllm does not count tokens with tiktoken (which would download its vocabulary)
        out.usage = ModelUsage(input_tokens=len(prompt.split()), output_tokens=len(text.split()), total_tokens=0)
        out.usage.total_tokens = out.usage.input_tokens + out.usage.output_tokens
        return out

    return get_model(model, custom_outputs=answer)


def _tasks():
    from inspect_ai import Task
    from inspect_ai.dataset import MemoryDataset, Sample
    from inspect_ai.scorer import choice, includes, match
    from inspect_ai.solver import generate, multiple_choice

    items = [json.loads(line) for line in (FIXTURES / "lm_eval_tasks" / "arc_easy_mini.jsonl").read_text().splitlines()]
    arc = Task(
        name="arc_easy_mini",
        dataset=MemoryDataset(
            [Sample(id=str(i), input=it["question"], choices=it["choices"], target="A") for i, it in enumerate(items)],
            name="arc_easy_mini",
        ),
        solver=multiple_choice(),
        scorer=choice(),
    )
    arith = Task(
        name="arith",
        dataset=MemoryDataset(
            [Sample(id=f"q{i}", input=f"Compute {i} plus {i + 3}.", target=str(2 * i + 3)) for i in range(6)],
            name="arith",
        ),
        solver=generate(),
        scorer=[match(location="any"), includes()],
        epochs=2,
    )
    return arc, arith


def write_logs(folder: Path) -> dict[str, Path]:
    """Every log the tests read, by name; all written by inspect_ai into `folder`."""
    from inspect_ai import eval as inspect_eval
    from inspect_ai.log import read_eval_log, write_eval_log

    folder.mkdir(parents=True, exist_ok=True)
    logs: dict[str, Path] = {}
    arc, arith = _tasks()
    for key, model, fmt in (("a", MODEL_A, "eval"), ("b", MODEL_B, "json")):
        run = folder / f"run-{key}"
        for log in inspect_eval([arc, arith], model=_mock(model), log_dir=str(run), log_format=fmt, display="none"):
            assert log.status == "success", log.error
            logs[f"{log.eval.task}-{key}"] = Path(log.location)
    # derived with inspect's own reader and writer
    full = read_eval_log(str(logs["arith-a"]))
    cut = _renamed(full, "cut")
    cut.samples = cut.samples[:5]
    logs["arith-cut"] = _write(write_eval_log, cut, folder / "derived" / "arith-cut.eval")
    empty = _renamed(full, "empty")
    empty.samples = []
    logs["arith-empty"] = _write(write_eval_log, empty, folder / "derived" / "arith-empty.json")
    bad = _renamed(full, "bad")
    bad.samples[0].scores["match"].value = "maybe"
    logs["arith-bad"] = _write(write_eval_log, bad, folder / "derived" / "arith-bad.eval")
    logs["arith-in-progress"] = _without_header(logs["arith-a"], folder / "derived" / "arith-in-progress.eval")
    return logs


def big_log(target: Path, n: int, batch: int = 500) -> Path:
    """An `n`-sample .eval log written by inspect's own recorder: one real log's samples repeated under new ids.

    Samples are buffered and written into the log's zip `batch` at a time, as a run does between flushes;
    the finished file is copied to `target` once, at the end. (Buffering them all, as `write_eval_log`
    does, or flushing each batch to the target costs time quadratic in `n`.)"""
    import anyio
    from inspect_ai import eval as inspect_eval
    from inspect_ai.log import read_eval_log
    from inspect_ai.log._condense import condense_sample
    from inspect_ai.log._recorders.eval import EvalRecorder

    folder = target.parent / f".{target.stem}-run"
    arc, _ = _tasks()
    [log] = inspect_eval(arc, model=_mock(MODEL_A), log_dir=str(folder), display="none")
    log = read_eval_log(log.location)
    template = [condense_sample(s) for s in log.samples]
    log.eval.dataset.samples = n
    log.eval.dataset.sample_ids = None
    log.results.total_samples = log.results.completed_samples = n
    for score in log.results.scores:
        score.scored_samples = n

    async def write() -> None:
        recorder = EvalRecorder(str(target.parent))
        await recorder.log_init(log.eval, str(target), clean=True)
        await recorder.log_start(log.eval, log.plan)
        zip_log = recorder.data[recorder._log_file_key(log.eval)]
        for i in range(n):
            sample = template[i % len(template)].model_copy(update={"id": f"s{i}", "uuid": f"u{i}"})
            await recorder.log_sample(log.eval, sample)
            if (i + 1) % batch == 0:
                await zip_log.write_buffered_samples()
        await recorder.log_finish(log.eval, log.status, log.stats, log.results, log.reductions, log.error)

    anyio.run(write)
    shutil.rmtree(folder, ignore_errors=True)
    return target


def _renamed(log, suffix: str):
    """A deep copy under its own eval id: the derived logs are runs of their own in the tests."""
    copy = log.model_copy(deep=True)
    copy.eval.eval_id = f"{log.eval.eval_id}-{suffix}"
    return copy


def _write(write_eval_log, log, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    write_eval_log(log, str(target))
    return target


def _without_header(source: Path, target: Path) -> Path:
    """A copy of a .eval log without header.json, summaries and reductions: what a run killed midway leaves."""
    import zipfile

    import inspect_ai._util.zipfile  # noqa: F401  (teaches zipfile inspect's zstd members)

    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            if info.filename.startswith(("header.json", "summaries.json", "reductions.json", "_journal/summaries")):
                continue
            dst.writestr(info, src.read(info))
    return target
