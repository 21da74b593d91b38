"""Statistics and figures read from the marts (installed as `evalhouse.analysis`).

One job per module, each analysis returning a results object with `to_dict()`, `summary()`, `latex()`:
`lmm` (mixed models as lme4 fits them: lmer with lmerTest/pbkrtest tests, binomial glmer; `mixedlm` is
the old random-intercept entry point over it), `lab_effects` (the reviewer response: naive d, mixed model
over sensitivity subsets, metric correlations), `code_vs_nl` (the plan's Phases 3–4), with `bootstrap`,
`paired`, `anova` and `criteria` underneath; `figures` draws them; `outputs.refresh` runs everything the
warehouse supports; `sources` reads the warehouse read-only or a file; `simulate` makes benchmark data.
Nothing heavy is imported here, so `import evalhouse.analysis.sources` stays cheap for the CLI.
"""
