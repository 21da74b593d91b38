-- The model names the records that passed give (each resolved once, in Python).
select distinct trim(r.model) as model_given
from records as r
join checks as c on r.rid = c.rid
where c.reason is null
