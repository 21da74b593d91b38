# Reference fits for evalhouse.analysis.mixedlm, made with lme4 (run from this folder):
#   Rscript lme4_reference.R
# Writes the datasets it uses (*.csv) and lme4_reference.csv, one row per dataset × method × quantity.
# Every model is a random intercept, y ~ X + (1|group), fitted by REML and by ML with a tight optimizer
# tolerance (bobyqa, rhoend 1e-10) so the figures are the optimum itself. Printed to 10 significant digits.
# The profiled criterion can have two maxima (the seed's table under ML has one at θ = 0.75 and a higher
# one on the boundary θ = 0), and lmer's default start θ = 1 can stop at the lower one. So each model is
# fitted from several starts and the fit with the highest likelihood is the reference; the default-start
# likelihood is kept as `loglik_default_start` to show where the two differ.
#
# Datasets:
#   hubris_*      the seed's 31-model table (../../../examples/hubris_models.csv) and its two subsets
#   sleepstudy    lme4::sleepstudy, 18 subjects × 10 days, balanced
#   dyestuff      lme4::Dyestuff, intercept only, 6 batches × 5
#   dyestuff2     lme4::Dyestuff2, intercept only: a singular fit (batch variance 0) under REML and ML
#   cake          lme4::cake, a factor and a covariate (angle ~ recipe + temp), 15 replicates
#   hubris_d2     d2 ~ is_flagship on the seed's table
suppressMessages(library(lme4))
ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-10))
out <- list()
add <- function(dataset, method, quantity, term, value) {
  out[[length(out) + 1]] <<- data.frame(dataset = dataset, method = method, quantity = quantity,
                                        term = term, value = sprintf("%.10g", value))
}

fit <- function(name, formula, group, d) {
  d <- as.data.frame(d)
  full <- as.formula(paste(deparse(formula), "+ (1|", group, ")"))
  for (reml in c(TRUE, FALSE)) {
    method <- if (reml) "REML" else "ML"
    default <- lmer(full, data = d, REML = reml, control = ctrl)
    m <- default
    for (s in c(0, 0.01, 0.1, 0.5, 2, 10)) {
      alt <- lmer(full, data = d, REML = reml, control = ctrl, start = list(theta = s))
      if (as.numeric(logLik(alt)) > as.numeric(logLik(m)) + 1e-9) m <- alt
    }
    fe <- fixef(m); se <- sqrt(diag(as.matrix(vcov(m))))
    ci <- confint(m, method = "Wald", level = 0.95)
    vc <- as.data.frame(VarCorr(m))
    gv <- vc$vcov[vc$grp == group]; rv <- vc$vcov[vc$grp == "Residual"]
    ll <- as.numeric(logLik(m))
    ll0 <- as.numeric(logLik(lm(formula, data = d), REML = reml))
    for (i in seq_along(fe)) {
      term <- names(fe)[i]
      add(name, method, "estimate", term, fe[i])
      add(name, method, "se", term, se[i])
      add(name, method, "ci_low", term, ci[term, 1])
      add(name, method, "ci_high", term, ci[term, 2])
    }
    add(name, method, "n", "", nrow(d))
    add(name, method, "n_groups", "", length(unique(d[[group]])))
    add(name, method, "group_var", "", gv)
    add(name, method, "resid_var", "", rv)
    add(name, method, "icc", "", gv / (gv + rv))
    add(name, method, "theta", "", getME(m, "theta"))
    add(name, method, "loglik", "", ll)
    add(name, method, "loglik_default_start", "", as.numeric(logLik(default)))
    add(name, method, "loglik_without", "", ll0)
    add(name, method, "lrt_stat", "", max(0, 2 * (ll - ll0)))
    add(name, method, "singular", "", as.numeric(isSingular(m)))
    re <- ranef(m)[[group]]
    for (g in rownames(re)) add(name, method, "ranef", g, re[g, 1])
  }
}

hubris <- read.csv("../../../examples/hubris_models.csv")
write.csv(lme4::sleepstudy, "sleepstudy.csv", row.names = FALSE)
write.csv(lme4::Dyestuff, "dyestuff.csv", row.names = FALSE)
write.csv(lme4::Dyestuff2, "dyestuff2.csv", row.names = FALSE)
cake <- lme4::cake[, c("replicate", "recipe", "temp", "angle")]
cake$replicate <- as.character(cake$replicate)
write.csv(cake, "cake.csv", row.names = FALSE)

fit("hubris_full", hubris ~ is_flagship, "lab", hubris)
fit("hubris_no_phi4", hubris ~ is_flagship, "lab", hubris[hubris$model != "Phi-4", ])
fit("hubris_no_reasoning", hubris ~ is_flagship, "lab", hubris[!(hubris$model %in% c("o3-mini", "DeepSeek R1")), ])
fit("hubris_d2", d2 ~ is_flagship, "lab", hubris)
fit("sleepstudy", Reaction ~ Days, "Subject", read.csv("sleepstudy.csv"))
fit("dyestuff", Yield ~ 1, "Batch", read.csv("dyestuff.csv"))
fit("dyestuff2", Yield ~ 1, "Batch", read.csv("dyestuff2.csv"))
fit("cake", angle ~ recipe + temp, "replicate", read.csv("cake.csv"))

write.csv(do.call(rbind, out), "lme4_reference.csv", row.names = FALSE, quote = TRUE)
cat(sprintf("lme4 %s, R %s\n", packageVersion("lme4"), getRversion()))
