# Reference numbers for trialflow's MMRM adapter (trialflow.stats.mmrm_analysis) on the
# default cohorts, from R nlme::gls + emmeans.
#
# Input: cohort_spine_rct.csv and cohort_knee_sarcopenia.csv next to this script (written
# by export_cohorts.py from a pipeline run): one row per participant and visit, one column
# per outcome. Each outcome is fitted with the model of mmrm_results:
#   * spine_rct (parallel; visits baseline, week8; covariate age):
#       value ~ baseline + arm * visit + age over the post-baseline visits, the baseline
#       value as covariate, participants with a baseline and a post-baseline value.
#       With one post-baseline visit the visit factor has one level, so the model is
#       value ~ baseline + arm + age with a single residual variance (the unstructured
#       covariance of one visit): gls without correlation or weights. With several
#       post-baseline visits it would be corSymm + varIdent as below.
#   * knee_sarcopenia (single arm; visits baseline, week12, week24):
#       value ~ visit over all visits, unstructured covariance as corSymm (general
#       correlation within participant) + varIdent (one variance per visit).
# REML throughout. LS-means and their differences by emmeans (parallel: arm vs the
# reference arm at each post-baseline visit; single arm: each later visit - baseline and
# follow-up - end of treatment), model-based SEs. emmeans' df for gls is its own
# (numerically approximated Satterthwaite) df, not Kenward-Roger: compare it loosely.
# That approximation (emmeans:::gradV.kludge) refits the model to responses perturbed with
# rnorm, so its df are random (about 2% apart between seeds on these data): the seed is set
# before each emmeans call so that the CSVs are reproducible.
#
# Run from the repository root:
#   Rscript tests/reference/mmrm/gls_cohorts.R
# Writes cohort_<study>_gls.csv next to this script: outcome, visit, contrast, estimate,
# se, df, lower, upper (95% CI on emmeans' df), m2_reml_loglik (-2 x nlme's REML
# log-likelihood, repeated on each row of the outcome), n_obs, n_subjects. The committed
# CSVs were produced with R 4.2.2, nlme 3.1.162 and emmeans 1.8.4.1.
suppressPackageStartupMessages({
  library(nlme)
  library(emmeans)
})

out_dir <- "tests/reference/mmrm"
control <- glsControl(tolerance = 1e-10, msTol = 1e-10, maxIter = 500, msMaxIter = 500)
num <- function(x) sprintf("%.12g", x)

fit_gls <- function(formula, data) {
  # Unstructured covariance over the visits in the data (factor `visit`, its position
  # VISITNUM); a single visit has one variance. The call is built with do.call so that it
  # holds the formula and data themselves: emmeans' Satterthwaite df re-evaluates it.
  args <- list(model = formula, data = data, method = "REML", control = control)
  if (nlevels(data$visit) > 1) {
    args$correlation <- corSymm(form = ~ VISITNUM | participant_id)
    args$weights <- varIdent(form = ~ 1 | visit)
  }
  do.call(gls, args)
}

rows_of <- function(ct, outcome, visit, fit, data) {
  data.frame(
    outcome = outcome, visit = visit, contrast = as.character(ct$contrast),
    estimate = num(ct$estimate), se = num(ct$SE), df = num(ct$df),
    lower = num(ct$lower.CL), upper = num(ct$upper.CL),
    m2_reml_loglik = num(-2 * as.numeric(logLik(fit))),
    n_obs = nrow(data), n_subjects = length(unique(data$participant_id))
  )
}

fit_parallel <- function(wide, outcome, arms, visits, covariates) {
  base <- wide[wide$visit == visits[1] & !is.na(wide[[outcome]]), c("participant_id", outcome)]
  base <- base[!duplicated(base$participant_id), ]
  names(base)[2] <- "baseline"
  post <- wide[wide$visit %in% visits[-1], c("participant_id", "arm", "visit", covariates, outcome)]
  names(post)[names(post) == outcome] <- "value"
  data <- merge(post, base, by = "participant_id", all.x = TRUE)
  data <- data[complete.cases(data[, c("value", "baseline", "arm", covariates)]), ]
  data$arm <- factor(data$arm, levels = arms)
  data$visit <- factor(data$visit, levels = intersect(visits[-1], unique(data$visit)))
  data <- data[order(data$participant_id, data$visit), ]
  data$VISITNUM <- as.integer(data$visit)
  several <- nlevels(data$visit) > 1
  terms <- c("baseline", if (several) "arm * visit" else "arm", covariates)
  fit <- fit_gls(as.formula(paste("value ~", paste(terms, collapse = " + "))), data)
  spec <- if (several) ~ arm | visit else ~ arm
  set.seed(20261121)
  emm <- emmeans(fit, spec, data = data, mode = "satterthwaite")
  ct <- as.data.frame(summary(contrast(emm, method = "trt.vs.ctrl", ref = 1, adjust = "none"),
                              infer = TRUE))
  visit <- if (several) as.character(ct$visit) else levels(data$visit)
  rows_of(ct, outcome, visit, fit, data)
}

fit_single_arm <- function(wide, outcome, visits, pairs) {
  data <- wide[!is.na(wide[[outcome]]), c("participant_id", "visit", outcome)]
  names(data)[3] <- "value"
  data$visit <- factor(data$visit, levels = visits)
  data <- data[order(data$participant_id, data$visit), ]
  data$VISITNUM <- as.integer(data$visit)
  fit <- fit_gls(value ~ visit, data)
  set.seed(20261121)
  emm <- emmeans(fit, ~ visit, data = data, mode = "satterthwaite")
  weights <- lapply(pairs, function(p) as.numeric(visits == p[1]) - as.numeric(visits == p[2]))
  names(weights) <- vapply(pairs, function(p) paste(p[1], "-", p[2]), "")
  ct <- as.data.frame(summary(contrast(emm, weights, adjust = "none"), infer = TRUE))
  rows_of(ct, outcome, vapply(pairs, `[`, "", 1), fit, data)
}

outcomes_of <- function(wide, keys) setdiff(names(wide), keys)
write_out <- function(df, file) {
  write.csv(df, file.path(out_dir, file), row.names = FALSE, quote = TRUE)
  cat("wrote", file.path(out_dir, file), "\n")
}

# spine_rct: parallel, reference arm control, visits baseline and week8, covariate age
spine <- read.csv(file.path(out_dir, "cohort_spine_rct.csv"), stringsAsFactors = FALSE)
spine_out <- do.call(rbind, lapply(
  outcomes_of(spine, c("participant_id", "arm", "visit", "age")),
  function(o) fit_parallel(spine, o, c("control", "exercise"), c("baseline", "week8"), "age")
))
write_out(spine_out, "cohort_spine_rct_gls.csv")

# knee_sarcopenia: single arm, baseline, week12 (end of treatment), week24 (follow-up)
knee <- read.csv(file.path(out_dir, "cohort_knee_sarcopenia.csv"), stringsAsFactors = FALSE)
knee_visits <- c("baseline", "week12", "week24")
knee_pairs <- list(c("week12", "baseline"), c("week24", "baseline"), c("week24", "week12"))
knee_out <- do.call(rbind, lapply(
  outcomes_of(knee, c("participant_id", "arm", "visit")),
  function(o) fit_single_arm(knee, o, knee_visits, knee_pairs)
))
write_out(knee_out, "cohort_knee_sarcopenia_gls.csv")
