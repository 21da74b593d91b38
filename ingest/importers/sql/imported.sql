-- The latest manifest row of every file imported before (a batch writes one manifest shard).
select *
from read_parquet($manifests, union_by_name = true)
qualify row_number() over (partition by file order by imported_at desc) = 1
