# Reference numbers for trialflow.stats.mmrm from R nlme::gls + emmeans.
#
# Three models on the mmrm package's fev_data, each with an unstructured
# covariance written as corSymm (general correlation) + varIdent (one variance per
# visit), REML, and LS-means from emmeans (other factors averaged with equal
# weights; emmeans' Satterthwaite df, numerically approximated for gls):
#   1. FEV1 ~ ARMCD * AVISIT + RACE + SEX (the SAS reference model): gls_fev_*.csv
#   2. FEV1 ~ FEV1_BL + ARMCD * AVISIT (trialflow's parallel-design model):
#      gls_fev_baseline_*.csv
#   3. placebo arm, baseline FEV1 as visit BL, value ~ visit (trialflow's
#      single-arm model): gls_fev_single_arm_contrasts.csv
#
# Run from the repository root:
#   Rscript tests/reference/mmrm/gls_fev.R tests/reference/mmrm/fev_data.csv
# Writes the CSVs next to this script. The committed CSVs were produced with
# R 4.2.2, nlme 3.1.162 and emmeans 1.8.4.1 (Debian r-cran packages).
suppressPackageStartupMessages({
  library(nlme)
  library(emmeans)
})

args <- commandArgs(trailingOnly = TRUE)
data_path <- if (length(args) >= 1) args[[1]] else "tests/reference/mmrm/fev_data.csv"
out_dir <- "tests/reference/mmrm"

fev <- read.csv(data_path, stringsAsFactors = FALSE, na.strings = c("", "NA"))
fev <- fev[!is.na(fev$FEV1), ]
fev$ARMCD <- relevel(factor(fev$ARMCD), ref = "PBO")
fev$AVISIT <- factor(fev$AVISIT, levels = c("VIS1", "VIS2", "VIS3", "VIS4"))
fev$RACE <- relevel(factor(fev$RACE), ref = "Asian")
fev$SEX <- relevel(factor(fev$SEX), ref = "Male")
fev$VISITNUM <- as.integer(fev$AVISIT)

fit <- gls(
  FEV1 ~ ARMCD * AVISIT + RACE + SEX,
  data = fev,
  correlation = corSymm(form = ~ VISITNUM | USUBJID),
  weights = varIdent(form = ~ 1 | AVISIT),
  method = "REML",
  control = glsControl(tolerance = 1e-10, msTol = 1e-10, maxIter = 500, msMaxIter = 500)
)

fmt <- function(df, file) {
  write.csv(df, file.path(out_dir, file), row.names = FALSE, quote = TRUE)
}

# Fixed effects with model-based SEs (names follow R's treatment coding).
co <- summary(fit)$tTable
fmt(data.frame(term = rownames(co), estimate = sprintf("%.12g", co[, "Value"]),
               se = sprintf("%.12g", co[, "Std.Error"])), "gls_fev_coefficients.csv")

# Marginal covariance matrix of one complete subject (visits VIS1..VIS4).
complete <- names(which(table(fev$USUBJID) == 4))[1]
sigma <- getVarCov(fit, individual = complete)
cov_rows <- expand.grid(row = 1:4, col = 1:4)
cov_rows <- cov_rows[cov_rows$row >= cov_rows$col, ]
cov_rows$value <- sprintf("%.12g", mapply(function(i, j) sigma[i, j], cov_rows$row, cov_rows$col))
fmt(cov_rows, "gls_fev_covariance.csv")

# Log-likelihood: nlme's REML log-likelihood, and the number of observations and
# fixed effects so the test can relate it to SAS's -2 Res Log Likelihood.
fmt(data.frame(quantity = c("reml_loglik", "n_obs", "n_fixed"),
               value = sprintf("%.12g", c(as.numeric(logLik(fit)), nrow(fev), length(coef(fit))))),
    "gls_fev_fit.csv")

# LS-means and TRT - PBO by visit, Satterthwaite df.
emm <- emmeans(fit, ~ ARMCD | AVISIT, mode = "satterthwaite")
em <- as.data.frame(summary(emm))
fmt(data.frame(visit = em$AVISIT, arm = em$ARMCD,
               estimate = sprintf("%.12g", em$emmean), se = sprintf("%.12g", em$SE),
               df = sprintf("%.12g", em$df)), "gls_fev_lsmeans.csv")
ct <- as.data.frame(summary(contrast(emm, method = "revpairwise"), infer = TRUE))
fmt(data.frame(visit = ct$AVISIT, contrast = ct$contrast,
               estimate = sprintf("%.12g", ct$estimate), se = sprintf("%.12g", ct$SE),
               df = sprintf("%.12g", ct$df), ci_low = sprintf("%.12g", ct$lower.CL),
               ci_high = sprintf("%.12g", ct$upper.CL), p_value = sprintf("%.12g", ct$p.value)),
    "gls_fev_lsmean_diffs.csv")
cat("done (full model)\n")

# Second model, shaped like trialflow's parallel-design analysis: baseline covariate plus
# arm by visit, no other covariates.
fit_bl <- gls(
  FEV1 ~ FEV1_BL + ARMCD * AVISIT,
  data = fev,
  correlation = corSymm(form = ~ VISITNUM | USUBJID),
  weights = varIdent(form = ~ 1 | AVISIT),
  method = "REML",
  control = glsControl(tolerance = 1e-10, msTol = 1e-10, maxIter = 500, msMaxIter = 500)
)
fmt(data.frame(quantity = c("reml_loglik"), value = sprintf("%.12g", as.numeric(logLik(fit_bl)))),
    "gls_fev_baseline_fit.csv")
emm_bl <- emmeans(fit_bl, ~ ARMCD | AVISIT, mode = "satterthwaite")
ct_bl <- as.data.frame(summary(contrast(emm_bl, method = "revpairwise"), infer = TRUE))
fmt(data.frame(visit = ct_bl$AVISIT, contrast = ct_bl$contrast,
               estimate = sprintf("%.12g", ct_bl$estimate), se = sprintf("%.12g", ct_bl$SE),
               df = sprintf("%.12g", ct_bl$df)),
    "gls_fev_baseline_lsmean_diffs.csv")
cat("done (baseline model)\n")

# Third model, shaped like trialflow's single-arm analysis: the placebo arm alone, with the
# baseline FEV1 as a visit "BL" before VIS1..VIS4, value ~ visit over all five visits.
pbo <- read.csv(data_path, stringsAsFactors = FALSE, na.strings = c("", "NA"))
pbo <- pbo[pbo$ARMCD == "PBO", ]
bl <- unique(pbo[, c("USUBJID", "FEV1_BL")])
long <- rbind(
  data.frame(USUBJID = bl$USUBJID, visit = "BL", value = bl$FEV1_BL),
  data.frame(USUBJID = pbo$USUBJID, visit = pbo$AVISIT, value = pbo$FEV1)
)
long <- long[!is.na(long$value), ]
long$visit <- factor(long$visit, levels = c("BL", "VIS1", "VIS2", "VIS3", "VIS4"))
long$VISITNUM <- as.integer(long$visit)
fit_sa <- gls(
  value ~ visit,
  data = long,
  correlation = corSymm(form = ~ VISITNUM | USUBJID),
  weights = varIdent(form = ~ 1 | visit),
  method = "REML",
  control = glsControl(tolerance = 1e-10, msTol = 1e-10, maxIter = 500, msMaxIter = 500)
)
emm_sa <- emmeans(fit_sa, ~ visit, mode = "satterthwaite")
pairs_sa <- contrast(emm_sa, list(
  "VIS1 - BL" = c(-1, 1, 0, 0, 0), "VIS2 - BL" = c(-1, 0, 1, 0, 0),
  "VIS3 - BL" = c(-1, 0, 0, 1, 0), "VIS4 - BL" = c(-1, 0, 0, 0, 1),
  "VIS4 - VIS3" = c(0, 0, 0, -1, 1)
))
ct_sa <- as.data.frame(summary(pairs_sa, infer = TRUE))
fmt(data.frame(contrast = ct_sa$contrast, estimate = sprintf("%.12g", ct_sa$estimate),
               se = sprintf("%.12g", ct_sa$SE), df = sprintf("%.12g", ct_sa$df)),
    "gls_fev_single_arm_contrasts.csv")
cat("done (single-arm model)\n")
