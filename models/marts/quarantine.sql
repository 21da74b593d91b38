-- One row per input row that could not be loaded: file, line, reason, raw text.
select file, line, reason, {{ adapter.quote('raw') }}, importer, quarantined_at
from {{ ref('stg_quarantine') }}
