# Reference figures for evalhouse.analysis.paired, .anova and .code_vs_nl, made with R (run from this folder):
#   Rscript stats_reference.R
# Writes the simulated datasets it uses (cvn_*.csv, wilcoxon_*.csv) and stats_reference.csv, one row per
# dataset × scope × test × quantity, printed to 15 significant digits. Only base R (stats) is needed.
#
# Datasets:
#   wilcoxon_*      paired x, y vectors that take each branch of wilcox.test's default (exact: n < 50 with
#                   no ties or zeros; otherwise normal with continuity and tie correction)
#   psychiatry.csv  clust.bin.pair's psychiatry data (Petryshen 1989), per-cluster a, b, c, d counts
#   thyroids.csv    clust.bin.pair's thyroids data (Obuchowski 1998), one row per gland (pet, spect)
#   cvn_replicates  3 models × 48 instances × arms code/nl, 1–3 replicates per cell (some lost), one model
#                   missing a few instances' code arm: the per-instance tests, ANOVAs and effect sizes
#   cvn_single      the same design with one replicate per arm: McNemar's exact test
#
# The clustered McNemar of Durkalski et al. (2003) is written out below as clust.bin.pair 0.1.2 writes it
# (R/durkalski.R: sum((bk-ck)/nk)^2 / sum(((bk-ck)/nk)^2)); CRAN is not reachable here, so the package
# itself is not loaded. Its published figures (Durkalski 2003, table III: psychiatry 7.542, thyroids
# 2.32) are checked by stopifnot below.
out <- list()
add <- function(dataset, scope, test, quantity, value) {
  out[[length(out) + 1]] <<- data.frame(dataset = dataset, scope = scope, test = test, quantity = quantity,
                                        value = sprintf("%.15g", value))
}
durkalski <- function(nk, bk, ck) sum((bk - ck) / nk)^2 / sum(((bk - ck) / nk)^2)

# ---- Wilcoxon and paired t on plain vectors ---------------------------------------------------------
set.seed(18)
vectors <- list(
  exact_small = list(x = c(1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30), y = c(0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29)),
  exact_49 = list(x = round(rnorm(49, 0.3), 6), y = round(rnorm(49), 6)),
  normal_50 = list(x = round(rnorm(50, 0.3), 6), y = round(rnorm(50), 6)),
  ties_zeros = list(x = c(1, 1, 0.5, 0, 1, 0.5, 1, 0, 1, 1, 0, 0.5, 1, 1, 0.5), y = c(0.5, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0)),
  ties_small = list(x = c(3, 5, 5, 7, 2, 8), y = c(1, 3, 3, 4, 1, 3)),
  large_shift = list(x = rep(1, 3000), y = c(rep(0, 2990), rep(1, 10)))
)
for (name in names(vectors)) {
  v <- vectors[[name]]
  write.csv(data.frame(x = v$x, y = v$y), paste0("wilcoxon_", name, ".csv"), row.names = FALSE)
  w <- wilcox.test(v$x, v$y, paired = TRUE)
  g <- wilcox.test(v$x, v$y, paired = TRUE, alternative = "greater")
  add(name, "", "wilcoxon", "V", w$statistic)
  add(name, "", "wilcoxon", "p", w$p.value)
  add(name, "", "wilcoxon", "p_greater", g$p.value)
  add(name, "", "wilcoxon", "exact", as.numeric(grepl("exact", w$method)))
  if (sd(v$x - v$y) > 0) {
    t <- t.test(v$x, v$y, paired = TRUE)
    add(name, "", "paired_t", "t", t$statistic)
    add(name, "", "paired_t", "df", t$parameter)
    add(name, "", "paired_t", "p", t$p.value)
    add(name, "", "paired_t", "ci_low", t$conf.int[1])
    add(name, "", "paired_t", "ci_high", t$conf.int[2])
  }
}

# ---- McNemar: exact, and clustered (Durkalski) ------------------------------------------------------
for (bc in list(c(10, 2), c(3, 1), c(455, 18), c(40, 41), c(2275, 90))) {
  name <- sprintf("binom_%d_%d", bc[1], bc[2])
  add(name, "", "mcnemar_exact", "p", binom.test(bc[1], bc[1] + bc[2])$p.value)
}
psy <- read.csv("psychiatry.csv")
x2 <- durkalski(psy$ah + psy$bh + psy$ch + psy$dh, psy$bh, psy$ch)
stopifnot(round(x2, 3) == 7.542)
add("psychiatry", "", "mcnemar_durkalski", "X2", x2)
add("psychiatry", "", "mcnemar_durkalski", "p", pchisq(x2, 1, lower.tail = FALSE))
thy <- read.csv("thyroids.csv")
tk <- aggregate(cbind(a = pet & spect, b = pet & !spect, c = !pet & spect, d = !pet & !spect) ~ patient, thy, sum)
x2 <- durkalski(tk$a + tk$b + tk$c + tk$d, tk$b, tk$c)
stopifnot(round(x2, 2) == 2.32)
add("thyroids", "", "mcnemar_durkalski", "X2", x2)
add("thyroids", "", "mcnemar_durkalski", "p", pchisq(x2, 1, lower.tail = FALSE))

# ---- Code vs NL on instance counts -------------------------------------------------------------------
simulate <- function(replicates, lose) {
  kinds <- c("add", "lcs", "mul", "rod"); digits <- c(2, 4)
  inst <- expand.grid(index = 1:6, digit = digits, kind = kinds, stringsAsFactors = FALSE)
  inst$problem_id <- sprintf("%s-%d-%02d", inst$kind, inst$digit, inst$index)
  inst$hardness <- rnorm(nrow(inst), 0, 1.5)
  models <- c("lab-a/alpha", "lab-a/beta", "lab-b/gamma"); skill <- c(0.6, 0, -0.4)
  arms <- c(nl = 0, code = 1)
  rows <- list()
  for (m in seq_along(models)) for (a in names(arms)) for (i in seq_len(nrow(inst))) {
    n <- if (lose) sum(runif(replicates) > 0.15) else replicates
    if (lose && m == 2 && a == "code" && i %% 9 == 0) n <- 0
    if (n == 0) next
    p <- plogis(skill[m] + arms[[a]] + 0.3 * (m == 3) * (a == "code") - inst$hardness[i])
    rows[[length(rows) + 1]] <- data.frame(model = models[m], problem_id = inst$problem_id[i], kind = inst$kind[i],
                                           digit = inst$digit[i], arm = a, n = n, n_correct = rbinom(1, n, p))
  }
  do.call(rbind, rows)
}

reference <- function(name, d) {
  write.csv(d, paste0(name, ".csv"), row.names = FALSE)
  d$acc <- d$n_correct / d$n
  wide <- merge(d[d$arm == "code", c("model", "problem_id", "kind", "acc")],
                d[d$arm == "nl", c("model", "problem_id", "acc")], by = c("model", "problem_id"),
                suffixes = c("_t", "_c"))
  wide <- wide[order(wide$model, wide$problem_id), ]
  wide$d <- wide$acc_t - wide$acc_c
  binary <- all(wide$acc_t %in% c(0, 1) & wide$acc_c %in% c(0, 1))
  for (m in unique(wide$model)) {
    w <- wide[wide$model == m, ]
    # digits.rank = 12: per-instance accuracies are fractions, and 1 - 2/3 differs from 1/3 in the last bit
    wt <- wilcox.test(w$acc_t, w$acc_c, paired = TRUE, digits.rank = 12)
    wg <- wilcox.test(w$acc_t, w$acc_c, paired = TRUE, digits.rank = 12, alternative = "greater")
    add(name, m, "wilcoxon", "V", wt$statistic)
    add(name, m, "wilcoxon", "p", wt$p.value)
    add(name, m, "wilcoxon", "p_greater", wg$p.value)
    tt <- t.test(w$acc_t, w$acc_c, paired = TRUE)
    add(name, m, "paired_t", "t", tt$statistic)
    add(name, m, "paired_t", "df", tt$parameter)
    add(name, m, "paired_t", "p", tt$p.value)
    add(name, m, "paired_t", "ci_low", tt$conf.int[1])
    add(name, m, "paired_t", "ci_high", tt$conf.int[2])
    if (binary) {
      b <- sum(w$d > 0); c <- sum(w$d < 0)
      add(name, m, "mcnemar_exact", "b", b)
      add(name, m, "mcnemar_exact", "p", binom.test(b, b + c)$p.value)
    } else {
      x2 <- sum(w$d)^2 / sum(w$d^2)  # durkalski() with (bk - ck)/nk = the instance's accuracy difference
      add(name, m, "mcnemar_durkalski", "X2", x2)
      add(name, m, "mcnemar_durkalski", "p", pchisq(x2, 1, lower.tail = FALSE))
    }
    add(name, m, "effect", "delta", mean(w$d))
    add(name, m, "effect", "cohens_dz", mean(w$d) / sd(w$d))
    add(name, m, "effect", "cohens_h", 2 * asin(sqrt(mean(w$acc_t))) - 2 * asin(sqrt(mean(w$acc_c))))
  }
  centred <- wide$d - ave(wide$d, wide$model)
  add(name, "", "effect", "pooled_dz", mean(wide$d) / sqrt(sum(centred^2) / (nrow(wide) - length(unique(wide$model)))))
  add(name, "", "effect", "pooled_h", 2 * asin(sqrt(mean(wide$acc_t))) - 2 * asin(sqrt(mean(wide$acc_c))))

  # repeated measures: the instances every model answered under both arms
  models <- unique(wide$model)
  complete <- names(which(table(wide$problem_id) == length(models)))
  long <- d[d$problem_id %in% complete, ]
  long$model <- factor(long$model); long$arm <- factor(long$arm); long$problem_id <- factor(long$problem_id)
  fit <- summary(aov(acc ~ model * arm + Error(problem_id / (model * arm)), data = long))
  add_strata(name, "anova_model_arm", fit)
  dd <- wide[wide$problem_id %in% complete, ]
  dd$model <- factor(dd$model); dd$kind <- factor(dd$kind); dd$problem_id <- factor(dd$problem_id)
  fit <- summary(aov(d ~ model * kind + Error(problem_id / model), data = dd))
  add_strata(name, "anova_model_kind_delta", fit)
  add(name, "", "anova", "n_complete", length(complete))
}

add_strata <- function(name, test, fit) {
  for (stratum in names(fit)) {
    tab <- fit[[stratum]][[1]]
    for (term in rownames(tab)) {
      key <- paste(sub("^Error: ", "", stratum), trimws(term), sep = "|")
      add(name, key, test, "df", tab[term, "Df"])
      add(name, key, test, "sum_sq", tab[term, "Sum Sq"])
      if (!is.na(tab[term, "F value"] %||% NA)) {
        add(name, key, test, "F", tab[term, "F value"])
        add(name, key, test, "p", tab[term, "Pr(>F)"])
      }
    }
  }
}
`%||%` <- function(a, b) if (is.null(a)) b else a

set.seed(2003)
reference("cvn_replicates", simulate(3, lose = TRUE))
reference("cvn_single", simulate(1, lose = FALSE))

write.csv(do.call(rbind, out), "stats_reference.csv", row.names = FALSE, quote = TRUE)
cat(sprintf("%d figures written to stats_reference.csv\n", length(out)))
