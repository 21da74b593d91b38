"""What an import did, in counts that reconcile.

Rows: every record read is loaded, quarantined or superseded (its run was imported from a newer
copy). Arms: every arm of a loaded record is a response written or an arm that never ran.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIRST_NAMES = 5  # names listed of a folder in which nothing was recognised

SHOWN = 20  # quarantined rows listed in the summary (all with --verbose)
KEPT = 10_000  # quarantined rows remembered for the summary


@dataclass
class FileResult:
    path: Path
    importer: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_superseded: int = 0
    responses: int = 0
    arms_never_ran: int = 0
    runs: list[str] = field(default_factory=list)
    superseded_by: list[str] = field(default_factory=list)

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_quarantined + self.rows_superseded


@dataclass
class ImportSummary:
    files: list[FileResult] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # aggregates: (file, what it is)
    ignored: list[tuple[Path, str]] = field(default_factory=list)  # unrecognised files found in folders
    refused: list[tuple[Path, str]] = field(default_factory=list)  # named files that cannot be imported
    unknown_models: Counter = field(default_factory=Counter)
    quarantine_reasons: Counter = field(default_factory=Counter)
    quarantined: list[tuple[Path, int | None, str]] = field(default_factory=list)  # the first few, to show
    problems: int = 0
    regraded_problems: int = 0
    elapsed_s: float = 0.0
    bytes_read: int = 0
    harness: list[Any] = field(default_factory=list)  # evalhouse.ingest.harness.run.HarnessResult, one per log
    parts: list[tuple[Path, str]] = field(default_factory=list)  # harness files read with another: (file, main)
    unrecognised: list[tuple[Path, list[Path]]] = field(default_factory=list)  # folders: (folder, files seen)

    def harness_total(self, name: str) -> int:
        return sum(getattr(h.counts, name) for h in self.harness)

    def add_harness(self, result: Any) -> None:
        """One imported harness log, its quarantined records and unknown models counted with the rest."""
        self.harness.append(result)
        for line, reason in result.counts.quarantined:
            self.quarantine_reasons[harness_reason_class(reason)] += 1
            if len(self.quarantined) < KEPT:
                self.quarantined.append((result.path, line, reason))
        self.unknown_models.update(result.counts.unknown_models)

    def total(self, name: str) -> int:
        return sum(getattr(f, name) for f in self.files)

    @property
    def reconciles(self) -> bool:
        return all(f.reconciles for f in self.files) and all(h.reconciles for h in self.harness)

    def unrecognised_lines(self) -> list[str]:
        """For each folder in which nothing was recognised: what it holds, by extension, and a few names."""
        out = []
        for folder, seen in self.unrecognised:
            if not seen:
                out.append(f"{folder}: no files in it")
                continue
            by_ext = Counter(p.suffix.lower() or "(no extension)" for p in seen)
            kinds = ", ".join(f"{n} {ext}" for ext, n in sorted(by_ext.items(), key=lambda item: (-item[1], item[0])))
            names = ", ".join(p.name for p in seen[:FIRST_NAMES]) + (", …" if len(seen) > FIRST_NAMES else "")
            out.append(f"{folder}: {len(seen)} file(s) ({kinds}), e.g. {names}")
        return out

    def as_dict(self) -> dict:
        names = ["rows_read", "rows_loaded", "rows_quarantined", "rows_superseded", "responses", "arms_never_ran"]
        return {
            "files_imported": len(self.files),
            "files_unchanged": len(self.unchanged),
            "files_skipped": len(self.skipped),
            "files_ignored": len(self.ignored),
            "files_refused": len(self.refused),
            **{name: self.total(name) for name in names},
            "problems": self.problems,
            "regraded_problems": self.regraded_problems,
            "unknown_models": dict(self.unknown_models),
            "quarantine_reasons": dict(self.quarantine_reasons),
            "harness_files_imported": len(self.harness),
            "harness_files_by_source": dict(Counter(h.source for h in self.harness)),
            "harness_files_read_with_another": len(self.parts),
            **{f"harness_{name}": self.harness_total(name) for name in HARNESS_COUNTS},
            "harness_runs": sorted({f"{h.source}/{h.run_id}" for h in self.harness}),
            "folders_unrecognised": [str(folder) for folder, _ in self.unrecognised],
            "reconciles": self.reconciles,
        }

    def lines(self, verbose: bool = False) -> list[str]:
        t = self.total
        out = [
            f"files: {len(self.files) + len(self.harness)} imported, {len(self.unchanged)} unchanged since the last import, "
            f"{len(self.skipped)} aggregates skipped, {len(self.ignored)} not recognised, {len(self.refused)} refused",
        ]
        if self.files or not self.harness:
            out += [
                f"rows: {t('rows_read')} read = {t('rows_loaded')} loaded + {t('rows_quarantined')} quarantined"
                f" + {t('rows_superseded')} superseded by a newer copy of their run",
                f"arms of loaded rows: {t('responses')} responses written + {t('arms_never_ran')} arms that never ran",
                f"problems: {self.problems} legacy instances, {self.regraded_problems} with the gold recomputed from the question",
            ]
        if self.harness or self.parts:
            sources = ", ".join(f"{s} {n}" for s, n in sorted(Counter(h.source for h in self.harness).items()))
            h = self.harness_total
            out += [
                f"harness logs: {len(self.harness)} imported ({sources or 'none'}), {len(self.parts)} files read with them",
                f"records: {h('records_read')} read = {h('records_loaded')} loaded + {h('records_quarantined')} quarantined;"
                f" {h('sample_rows')} sample scores, {h('score_rows')} reported scores",
            ]
        if self.quarantine_reasons:
            reasons = ", ".join(f"{reason} ({n})" for reason, n in self.quarantine_reasons.most_common(6))
            out.append(f"quarantined: {reasons}")
            shown = self.quarantined[: None if verbose else SHOWN]
            out += [f"  {path}:{line}: {reason}" for path, line, reason in shown]
            total = t("rows_quarantined") + self.harness_total("records_quarantined")
            if total > len(shown):
                out.append(f"  … and {total - len(shown)} more (see marts.quarantine after `evalhouse build`)")
        if self.unknown_models:
            out.append("not in the model registry (kept as given): " + ", ".join(sorted(self.unknown_models)))
        for f in self.files:
            if f.superseded_by:
                out.append(f"superseded: {f.path} (newer copy: {', '.join(sorted(set(f.superseded_by)))})")
        for path, what in self.skipped if verbose else []:
            out.append(f"skipped ({what}): {path}")
        for path, why in self.ignored if verbose else []:
            out.append(f"ignored ({why}): {path}")
        for path, why in self.refused:
            out.append(f"refused: {path}: {why}")
        if verbose:
            for r in self.harness:
                c = r.counts
                out.append(
                    f"  {r.path}: {r.source} run {r.run_id}, model {r.model}: {c.records_read} records, "
                    f"{c.records_loaded} loaded, {c.records_quarantined} quarantined; {c.sample_rows} sample scores, "
                    f"{c.score_rows} reported scores"
                )
            for path, main in self.parts:
                out.append(f"  {path}: read with {main}")
            for f in self.files:
                out.append(
                    f"  {f.path}: {f.rows_read} rows, {f.rows_loaded} loaded, {f.rows_quarantined} quarantined,"
                    f" {f.rows_superseded} superseded; {f.responses} responses, {f.arms_never_ran} arms never ran"
                )
        out.append(f"elapsed {self.elapsed_s:.1f}s, {self.bytes_read / 1e6 / max(self.elapsed_s, 1e-9):.1f} MB/s")
        return out


HARNESS_COUNTS = ("records_read", "records_loaded", "records_quarantined", "sample_rows", "score_rows")


def harness_reason_class(reason: str) -> str:
    """`samples/q1_epoch_1.json: score 'match' value 'x' is …` → `score … value … is …` (no file part, no values)."""
    text = reason.split(": ", 1)[1] if reason.split(": ", 1)[0].endswith((".json", ".jsonl")) else reason
    return re.sub(r"'[^']*'", "…", text).split(" (")[0]
