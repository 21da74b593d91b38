-- Records read and quarantined, per file.
select file_idx, count(*) as n_read, count(reason) as n_quarantined
from checks
group by file_idx
