-- One row per problem as graded_responses last graded it: a snapshot taken after every build, against
-- which the next incremental build finds the problems whose gold changed (their responses are regraded).
-- depends_on: {{ ref('graded_responses') }}
-- depends_on: {{ ref('graded_instances') }}
{{ grading_inputs() }}
