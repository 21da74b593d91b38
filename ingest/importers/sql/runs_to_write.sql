-- The runs (per file) that have responses to write, with how many.
select importer, run, model_id, seed_i, file_idx, n_responses
from run_counts
where n_responses > 0
