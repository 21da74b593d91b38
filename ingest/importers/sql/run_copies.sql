-- Records per run (importer, run, model, seed) and file: a run held by several files has several copies.
select importer, run, model_id, seed_i, file_idx, count(*) as n
from identity
group by all
order by all
