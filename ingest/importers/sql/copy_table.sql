-- A registered Arrow table kept as a temporary table of the batch.
create or replace temp table {{ ident(table) }} as select * from {{ ident(source) }}
