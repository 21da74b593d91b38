{#- What an incremental build of graded_responses has to (re)grade. Both run at compile time, against
    the warehouse being built, and return plain lists that the model inlines. -#}

{#- Shards listed in staging.stg_shards with no row in this model yet: the new ones, plus any whose rows
    all lost to other attempts (re-reading those changes nothing). -#}
{% macro shards_to_load(shards) %}
  {%- if not execute -%}{{ return([]) }}{%- endif -%}
  {%- set query -%}
    select file from {{ shards }}
    where shard_id not in (select distinct shard_id from {{ this }})
    order by file
  {%- endset -%}
  {{ return(run_query(query).columns[0].values() | list) }}
{% endmacro %}


{#- Problems whose gold or verifier flag differ from those the last build graded with (snapshot
    graded.graded_problems), or that are new: responses to them are regraded. None means the snapshot
    is missing and everything must be regraded. -#}
{% macro problems_to_regrade(problems, snapshot_name) %}
  {%- if not execute -%}{{ return([]) }}{%- endif -%}
  {%- set snapshot = adapter.get_relation(this.database, this.schema, snapshot_name) -%}
  {%- if snapshot is none -%}{{ return(none) }}{%- endif -%}
  {%- set query -%}
    select problem_id
    from {{ problems }} as p
    full join {{ snapshot }} as s using (problem_id)
    where p.problem_id is null or s.problem_id is null
       or p.gold is distinct from s.gold or p.needs_verifier is distinct from s.needs_verifier
    order by problem_id
  {%- endset -%}
  {{ return(run_query(query).columns[0].values() | list) }}
{% endmacro %}


{#- One row per problem: what grading needs from it (its gold, and whether a verifier judges its answers). -#}
{% macro grading_inputs() %}
    select p.problem_id, p.kind, p.gold_answer as gold, coalesce(k.needs_verifier, false) as needs_verifier
    from {{ ref('stg_problems') }} as p
    left join {{ ref('kind_families') }} as k using (kind)
{% endmacro %}
