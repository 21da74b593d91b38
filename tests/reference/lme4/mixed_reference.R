# Reference fits for evalhouse.analysis.lmm, made with lme4, lmerTest and pbkrtest (run from this folder):
#   Rscript mixed_reference.R
# Writes the datasets it uses (*.csv) and mixed_reference.csv: one row per model × method × df method ×
# quantity (× group, term, term2), values to 12 significant digits.
#
# Linear models: lmer by REML and ML, with lmerTest's Satterthwaite t tests, pbkrtest's Kenward-Roger
# (REML only; summary(m, ddf = "Kenward-Roger")) and lme4's Wald z. Binomial models: glmer, Laplace
# (nAGQ = 1), Wald z with glmer's default vcov (from the finite-difference Hessian), with the PIRLS
# tolerance tightened to 1e-12 so the deviance is the Laplace approximation itself (see glmm() below).
# Every fit uses a tight optimizer tolerance (bobyqa, rhoend 1e-10) so the figures are the optimum itself,
# not where a default tolerance stopped; a model with one θ is also fitted from several starts and the best
# kept (the seed's table under ML has a local optimum at θ = 0.75 below the boundary one at θ = 0, where
# lmer's default start stops). Factor levels sort in the C locale, as evalhouse sorts them.
Sys.setlocale("LC_COLLATE", "C")
suppressMessages({
  library(lme4)
  library(lmerTest)
  library(pbkrtest)
})
lctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-10, maxfun = 1e5))
gctrl <- glmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-10, maxfun = 1e5), tolPwrss = 1e-12)

rows <- list()
add <- function(model, method, df, quantity, value, group = "", term = "", term2 = "") {
  rows[[length(rows) + 1]] <<- data.frame(
    model = model, method = method, df_method = df, quantity = quantity, group = group,
    term = term, term2 = term2, value = sprintf("%.12g", value)
  )
}

common <- function(name, method, m) {
  vc <- as.data.frame(VarCorr(m))
  for (i in seq_len(nrow(vc))) {
    g <- vc$grp[i]
    v1 <- ifelse(is.na(vc$var1[i]), "", vc$var1[i])
    if (is.na(vc$var2[i])) {
      add(name, method, "", "variance", vc$vcov[i], g, v1)
    } else {
      add(name, method, "", "covariance", vc$vcov[i], g, v1, vc$var2[i])
      add(name, method, "", "correlation", vc$sdcor[i], g, v1, vc$var2[i])
    }
  }
  ll <- logLik(m)
  add(name, method, "", "loglik", as.numeric(ll))
  add(name, method, "", "deviance", -2 * as.numeric(ll))
  add(name, method, "", "aic", AIC(m))
  add(name, method, "", "npar", attr(ll, "df"))
  add(name, method, "", "nobs", nobs(m))
  add(name, method, "", "singular", as.numeric(isSingular(m)))
  th <- getME(m, "theta")
  for (i in seq_along(th)) add(name, method, "", "theta", th[i], term = as.character(i))
  re <- ranef(m)
  for (g in names(re)) for (j in colnames(re[[g]])) for (lev in rownames(re[[g]])) {
    add(name, method, "", "ranef", re[[g]][lev, j], g, j, lev)
  }
}

ttable <- function(name, method, df, tab) {
  for (term in rownames(tab)) {
    add(name, method, df, "estimate", tab[term, 1], term = term)
    add(name, method, df, "se", tab[term, 2], term = term)
    if (ncol(tab) == 5) {
      add(name, method, df, "df", tab[term, 3], term = term)
      add(name, method, df, "statistic", tab[term, 4], term = term)
      add(name, method, df, "p", tab[term, 5], term = term)
    } else {
      add(name, method, df, "statistic", tab[term, 3], term = term)
      add(name, method, df, "p", tab[term, 4], term = term)
    }
  }
}

lmm <- function(name, formula, d) {
  for (reml in c(TRUE, FALSE)) {
    method <- if (reml) "REML" else "ML"
    m <- lmerTest::lmer(formula, data = d, REML = reml, control = lctrl)
    if (length(getME(m, "theta")) == 1) {  # the criterion can have two optima: keep the global one
      for (s in c(0, 0.01, 0.1, 0.5, 2, 10)) {
        alt <- lmerTest::lmer(formula, data = d, REML = reml, control = lctrl, start = list(theta = s))
        if (as.numeric(logLik(alt)) > as.numeric(logLik(m)) + 1e-9) m <- alt
      }
    }
    common(name, method, m)
    add(name, method, "", "sigma", sigma(m))
    ttable(name, method, "satterthwaite", summary(m)$coefficients)
    if (reml) ttable(name, method, "kenward-roger", summary(m, ddf = "Kenward-Roger")$coefficients)
    z <- coef(summary(as(m, "lmerMod")))
    zt <- cbind(z[, 1:3, drop = FALSE], 2 * pnorm(-abs(z[, 3])))
    ttable(name, method, "z", zt)
  }
}

glmm <- function(name, formula, d) {
  m <- glmer(formula, data = d, family = binomial, control = gctrl)
  common(name, "Laplace", m)
  # The standard errors: glmer's own vcov is 2·H⁻¹ from lme4:::deriv12 with δ = 1e-4, which divides the
  # PIRLS rounding noise of the deviance by δ² (evalsim_slopes: 0.50725, 0.50734, 0.50736 for δ = 1e-4,
  # 3e-4, 1e-3). The reference takes the same Hessian of the same deviance at δ = 1e-3, where it has
  # settled; glmer's summary figure is kept as se_glmer_summary.
  tab <- coef(summary(m))
  for (term in rownames(tab)) add(name, "Laplace", "", "se_glmer_summary", tab[term, 2], term = term)
  dd <- update(m, devFunOnly = TRUE, control = gctrl)
  x <- c(getME(m, "theta"), fixef(m))
  nt <- length(getME(m, "theta"))
  H <- lme4:::deriv12(dd, x, delta = 1e-3)$Hessian
  se <- sqrt(diag(2 * solve(H)[-seq_len(nt), -seq_len(nt), drop = FALSE]))
  tab[, 2] <- se
  tab[, 3] <- tab[, 1] / se
  tab[, 4] <- 2 * pnorm(-abs(tab[, 3]))
  ttable(name, "Laplace", "z", tab)
  # glmer's defaults, kept to show how far they stop from the optimum: PIRLS stops at a relative change
  # of 1e-7 and the Laplace deviance takes log|L|² from the weights of the penultimate iterate, which on
  # cbpp moves the log-likelihood by 3e-4 and the standard errors (finite differences of that deviance)
  # by 0.5 %. The tests compare with the tight fit above; this is for the record.
  d0 <- glmer(formula, data = d, family = binomial)
  common(name, "glmer_default", d0)
  ttable(name, "glmer_default", "z", coef(summary(d0)))
}

# ---- data ------------------------------------------------------------------------------------------
write.csv(lme4::sleepstudy, "sleepstudy.csv", row.names = FALSE)
write.csv(lme4::Dyestuff, "dyestuff.csv", row.names = FALSE)
write.csv(lme4::Penicillin, "penicillin.csv", row.names = FALSE)
write.csv(lme4::Pastes[, c("strength", "batch", "cask")], "pastes.csv", row.names = FALSE)
cake <- lme4::cake[, c("replicate", "recipe", "temp", "angle")]
cake$replicate <- as.character(cake$replicate)
write.csv(cake, "cake.csv", row.names = FALSE)
write.csv(lme4::cbpp, "cbpp.csv", row.names = FALSE)
grouse <- lme4::grouseticks[, c("TICKS", "BROOD", "LOCATION", "YEAR", "cHEIGHT")]
grouse$any_ticks <- as.integer(grouse$TICKS > 0)
write.csv(grouse, "grouseticks.csv", row.names = FALSE)

# An eval-like crossed binary design: 8 models × 150 instances × 2 arms, model-specific arm effects.
set.seed(18)
n_model <- 8; n_inst <- 150
evalsim <- expand.grid(instance = sprintf("i%03d", 1:n_inst), model = sprintf("m%d", 1:n_model),
                       arm = c("nl", "code"), stringsAsFactors = FALSE)
b_model <- rnorm(n_model, 0, 0.7); b_slope <- rnorm(n_model, 0, 0.4); b_inst <- rnorm(n_inst, 0, 1.5)
mi <- match(evalsim$model, sprintf("m%d", 1:n_model)); ii <- match(evalsim$instance, sprintf("i%03d", 1:n_inst))
eta <- 0.3 + 0.5 * (evalsim$arm == "code") + b_model[mi] + b_slope[mi] * (evalsim$arm == "code") + b_inst[ii]
evalsim$correct <- rbinom(nrow(evalsim), 1, plogis(eta))
evalsim$score <- eta + rnorm(nrow(evalsim), 0, 1)
write.csv(evalsim, "evalsim.csv", row.names = FALSE)
counts <- aggregate(correct ~ model + arm, data = evalsim, FUN = sum)
counts$n <- aggregate(correct ~ model + arm, data = evalsim, FUN = length)$correct
write.csv(counts, "evalsim_counts.csv", row.names = FALSE)

hubris <- read.csv("../../../examples/hubris_models.csv")
read <- function(f) read.csv(f, stringsAsFactors = FALSE)

# ---- linear mixed models ---------------------------------------------------------------------------
lmm("sleepstudy_slope", Reaction ~ Days + (Days | Subject), read("sleepstudy.csv"))
lmm("sleepstudy_uncorrelated", Reaction ~ Days + (1 | Subject) + (0 + Days | Subject), read("sleepstudy.csv"))
lmm("penicillin_crossed", diameter ~ 1 + (1 | plate) + (1 | sample), read("penicillin.csv"))
lmm("pastes_nested", strength ~ 1 + (1 | batch / cask), read("pastes.csv"))
lmm("dyestuff", Yield ~ 1 + (1 | Batch), read("dyestuff.csv"))
lmm("cake_interaction_group", angle ~ recipe + temp + (1 | replicate) + (1 | recipe:replicate), read("cake.csv"))
lmm("hubris_full", hubris ~ is_flagship + (1 | lab), hubris)
lmm("evalsim_crossed", score ~ arm + (1 | model) + (1 | instance), read("evalsim.csv"))

# ---- binomial GLMMs --------------------------------------------------------------------------------
cb <- read("cbpp.csv"); cb$period <- as.character(cb$period); cb$herd <- as.character(cb$herd)
glmm("cbpp", cbind(incidence, size - incidence) ~ period + (1 | herd), cb)
gr <- read("grouseticks.csv"); gr$YEAR <- as.character(gr$YEAR)
glmm("grouseticks_any", any_ticks ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | LOCATION), gr)
glmm("evalsim_crossed", correct ~ arm + (1 | model) + (1 | instance), read("evalsim.csv"))
glmm("evalsim_slopes", correct ~ arm + (arm | model) + (1 | instance), read("evalsim.csv"))
glmm("evalsim_counts", cbind(correct, n - correct) ~ arm + (1 | model), read("evalsim_counts.csv"))

write.csv(do.call(rbind, rows), "mixed_reference.csv", row.names = FALSE, quote = TRUE)
cat(sprintf("lme4 %s, lmerTest %s, pbkrtest %s, R %s\n", packageVersion("lme4"), packageVersion("lmerTest"),
            packageVersion("pbkrtest"), getRversion()))
