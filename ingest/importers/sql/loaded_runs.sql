-- The counts of the copies of runs that are loaded (the newest copy of each run).
select c.importer, c.run, c.model_id, c.seed_i, c.file_idx, c.n_rows, c.n_responses, c.n_never
from run_counts as c
join loaded_runs as w using (importer, run, model_id, seed_i, file_idx)
where w.loaded
