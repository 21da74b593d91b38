-- The quarantined records: file, line, reason and the record's text when the reader kept it.
select c.file_idx, c.line, c.reason, r.raw
from checks as c
join records as r on r.rid = c.rid
where c.reason is not null
order by all
