"""Operating evalhouse: the scheduled rerun, status, validation and the shareable report.

Each module has one job: `lock` (one rerun at a time), `logs` (the rerun's log file), `plan` (what the
experiment specs still need), `rerun`, `status`, `checks` (validation) and `report`.
"""
