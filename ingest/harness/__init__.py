"""Importing other harnesses' logs: Inspect AI, lm-evaluation-harness, HELM and Every Eval Ever.

Each format has a reader that streams its records into two raw tables, partitioned by source and
run: `benchmark_samples` (one row per sample × epoch × score) and `benchmark_scores` (one row per
score the harness reported). `run.import_harness_files` is called by the legacy import pipeline for
the files `detect` recognised; see README, "Bring your harness's logs".
"""
