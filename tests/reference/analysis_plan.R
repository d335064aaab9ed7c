# Reference numbers for the analysis-plan kernel of trialflow.stats (issue 12): effect sizes
# with confidence intervals (effectsize), Student's t (t.test(var.equal = TRUE)), the
# baseline-adjusted logistic regression odds ratio (glm + confint.default) and the decisions
# of the fixed-sequence and Holm testing strategies.
#
# Usage (from the repository root):
#   Rscript tests/reference/analysis_plan.R
#
# Writes, beside this script:
#   analysis_plan_samples.csv        the seeded samples: case, sample (x | y), value
#                                    (paired cases: x = after, y = before, same order)
#   analysis_plan_effect_sizes.csv   case, measure, estimate, ci_low, ci_high, plus the
#                                    noncentral-t limits inverted to machine precision
#                                    (exact_ci_low, exact_ci_high; see below)
#   analysis_plan_student_t.csv      t.test(x, y, var.equal = TRUE) and hedges_g per case
#   analysis_plan_logistic_data.csv  case, arm, baseline, responder
#   analysis_plan_logistic.csv       glm(responder ~ arm + baseline, binomial) per case and arm
#                                    (converged fit; the default fit's p-value beside it)
#   analysis_plan_testing.csv        fixed-sequence and Holm decisions per case and position
#   analysis_plan_versions.csv       R and package versions
#
# effectsize 0.8.3 inverts the noncentral t with optim (Nelder-Mead, abstol = 1e-9) on
# |pt(t, df, ncp) - p|, which stops about 1e-7 short of the root; exact_ci_* repeat the same
# inversion with uniroot(tol = 1e-13) so that an exact root finder can be checked tightly.
#
# Rank-biserial r of paired data is computed as rank_biserial(after - before): in effectsize
# 0.8.3 rank_biserial(after, before, paired = TRUE) takes the number of non-zero differences
# for the standard error from `after` instead of `after - before` (the point estimate is the
# same); both are written (measure rank_biserial_paired and rank_biserial_paired_xy).
suppressPackageStartupMessages(library(effectsize))

here <- local({
  args <- commandArgs(trailingOnly = FALSE)
  file <- sub("^--file=", "", args[grep("^--file=", args)])
  if (length(file)) dirname(normalizePath(file)) else "tests/reference"
})
out_path <- function(name) file.path(here, paste0("analysis_plan_", name, ".csv"))
write <- function(frame, name) {
  write.csv(frame, out_path(name), row.names = FALSE, na = "")
}
num <- function(x) format(x, digits = 17)

# ---- samples -------------------------------------------------------------------------------
set.seed(20240612)
two_sample <- list(
  normal = list(x = rnorm(12, 1), y = rnorm(9)),
  large_effect = list(x = rnorm(15, 5), y = rnorm(15)),
  negative_unequal = list(x = rnorm(5, -0.8, 2), y = rnorm(30, 0, 1)),
  two_each = list(x = c(1, 2), y = c(3, 5)),
  tied_scores = list(x = c(50, 55, 55, 60, 60, 60, 65, 70, 75, 75),
                     y = c(45, 50, 50, 55, 55, 60, 60, 60, 65)),
  sleep = list(x = sleep$extra[sleep$group == 2], y = sleep$extra[sleep$group == 1])
)
paired <- local({
  before <- rnorm(9, 10, 2)
  big_before <- rnorm(60, 50, 10)
  list(
    normal = list(x = before + rnorm(9, 0.8, 1.2), y = before),
    two_pairs = list(x = c(2, 4.5), y = c(1, 2)),
    zero_changes = list(x = c(3, 4, 4, 5, 6, 6, 7, 8, 2, 5, 5),
                        y = c(3, 3, 4, 4, 4, 6, 5, 6, 3, 5, 2)),
    large_n = list(x = big_before + rnorm(60, -1.5, 6), y = big_before),
    sleep = list(x = sleep$extra[sleep$group == 2], y = sleep$extra[sleep$group == 1])
  )
})

samples <- do.call(rbind, c(
  lapply(names(two_sample), function(k) rbind(
    data.frame(case = paste0("two_", k), sample = "x", value = num(two_sample[[k]]$x)),
    data.frame(case = paste0("two_", k), sample = "y", value = num(two_sample[[k]]$y)))),
  lapply(names(paired), function(k) rbind(
    data.frame(case = paste0("paired_", k), sample = "x", value = num(paired[[k]]$x)),
    data.frame(case = paste0("paired_", k), sample = "y", value = num(paired[[k]]$y))))
))
write(samples, "samples")

# ---- effect sizes --------------------------------------------------------------------------
exact_ncp <- function(t, df, conf = 0.95) {
  probs <- c(1 - (1 - conf) / 2, (1 - conf) / 2)
  sapply(probs, function(p) {
    f <- function(ncp) suppressWarnings(pt(t, df, ncp)) - p
    lo <- t - 5; hi <- t + 5
    while (f(lo) < 0) lo <- lo - 10
    while (f(hi) > 0) hi <- hi + 10
    uniroot(f, c(lo, hi), tol = 1e-13, maxiter = 10000)$root
  })
}
es_row <- function(case, measure, est, exact = c(NA, NA)) {
  data.frame(case = case, measure = measure, estimate = num(est[[1]]),
             ci_low = num(est$CI_low), ci_high = num(est$CI_high),
             exact_ci_low = num(exact[1]), exact_ci_high = num(exact[2]))
}
effect_rows <- list()
for (k in names(two_sample)) {
  x <- two_sample[[k]]$x; y <- two_sample[[k]]$y
  n1 <- length(x); n2 <- length(y); df <- n1 + n2 - 2
  sp <- sqrt(((n1 - 1) * var(x) + (n2 - 1) * var(y)) / df)
  t <- (mean(x) - mean(y)) / (sp * sqrt(1 / n1 + 1 / n2))
  j <- exp(lgamma(df / 2) - log(sqrt(df / 2)) - lgamma((df - 1) / 2))
  exact <- exact_ncp(t, df) * sqrt(1 / n1 + 1 / n2) * j
  case <- paste0("two_", k)
  effect_rows[[length(effect_rows) + 1]] <- es_row(
    case, "hedges_g", suppressWarnings(hedges_g(x, y, pooled_sd = TRUE)), exact)
  effect_rows[[length(effect_rows) + 1]] <- es_row(
    case, "rank_biserial", suppressWarnings(rank_biserial(x, y)))
}
for (k in names(paired)) {
  x <- paired[[k]]$x; y <- paired[[k]]$y; d <- x - y; n <- length(d)
  t <- mean(d) / (sd(d) / sqrt(n))
  exact <- exact_ncp(t, n - 1) * sqrt(1 / n)
  case <- paste0("paired_", k)
  effect_rows[[length(effect_rows) + 1]] <- es_row(
    case, "cohens_dz", suppressWarnings(cohens_d(x, y, paired = TRUE)), exact)
  effect_rows[[length(effect_rows) + 1]] <- es_row(
    case, "cohens_dz_one_sample", suppressWarnings(cohens_d(d)), exact)
  effect_rows[[length(effect_rows) + 1]] <- es_row(
    case, "rank_biserial_paired", suppressWarnings(rank_biserial(d)))
  effect_rows[[length(effect_rows) + 1]] <- es_row(
    case, "rank_biserial_paired_xy", suppressWarnings(rank_biserial(x, y, paired = TRUE)))
}
write(do.call(rbind, effect_rows), "effect_sizes")

# ---- Student's t ---------------------------------------------------------------------------
student_rows <- lapply(names(two_sample), function(k) {
  x <- two_sample[[k]]$x; y <- two_sample[[k]]$y
  tt <- t.test(x, y, var.equal = TRUE)
  g <- suppressWarnings(hedges_g(x, y, pooled_sd = TRUE))
  data.frame(case = paste0("two_", k), n = length(x) + length(y),
             estimate = num(unname(tt$estimate[1] - tt$estimate[2])),
             se = num(tt$stderr), df = num(unname(tt$parameter)),
             ci_low = num(tt$conf.int[1]), ci_high = num(tt$conf.int[2]),
             statistic = num(unname(tt$statistic)), p_value = num(tt$p.value),
             effect_size = num(g$Hedges_g), effect_size_ci_low = num(g$CI_low),
             effect_size_ci_high = num(g$CI_high))
})
write(do.call(rbind, student_rows), "student_t")

# ---- logistic regression -------------------------------------------------------------------
set.seed(7)
make_logistic <- function(case, n_per_arm, arms, log_or, slope) {
  arm <- rep(arms, each = n_per_arm)
  baseline <- round(rnorm(length(arm), 40, 8), 1)
  eta <- -0.3 + log_or[match(arm, arms)] + slope * (baseline - 40)
  data.frame(case = case, arm = arm, baseline = baseline,
             responder = rbinom(length(arm), 1, plogis(eta)))
}
logistic_data <- rbind(
  make_logistic("two_arms", 40, c("control", "exercise"), c(0, 1.1), -0.06),
  make_logistic("three_arms", 30, c("control", "low", "high"), c(0, 0.5, 1.4), 0.04),
  make_logistic("small", 10, c("control", "exercise"), c(0, 0.9), 0.08)
)
write(logistic_data, "logistic_data")
logistic_rows <- list()
for (case in unique(logistic_data$case)) {
  data <- logistic_data[logistic_data$case == case, ]
  data$arm <- factor(data$arm, levels = unique(data$arm))
  # glm's default convergence (epsilon = 1e-8 on the relative change in deviance) stops a
  # few 1e-6 short of the maximum in places; the reference is the converged fit, and the
  # default fit's p-value is kept beside it (p_value_default_glm)
  fit <- glm(responder ~ arm + baseline, family = binomial, data = data,
             control = glm.control(epsilon = 1e-14, maxit = 100))
  default_fit <- glm(responder ~ arm + baseline, family = binomial, data = data)
  tab <- summary(fit)$coefficients
  ci <- confint.default(fit)
  for (a in levels(data$arm)[-1]) {
    term <- paste0("arm", a)
    logistic_rows[[length(logistic_rows) + 1]] <- data.frame(
      case = case, arm = a, n = nrow(data), log_odds_ratio = num(tab[term, 1]),
      se = num(tab[term, 2]), z = num(tab[term, 3]), p_value = num(tab[term, 4]),
      odds_ratio = num(exp(tab[term, 1])), ci_low = num(exp(ci[term, 1])),
      ci_high = num(exp(ci[term, 2])), baseline_log_odds_ratio = num(tab["baseline", 1]),
      p_value_default_glm = num(summary(default_fit)$coefficients[term, 4]))
  }
}
write(do.call(rbind, logistic_rows), "logistic")

# ---- testing strategies --------------------------------------------------------------------
alpha <- 0.05
strategies <- list(
  stops_at_fourth = c(0.001, 0.02, 0.04, 0.06, 0.01),
  first_fails = c(0.2, 0.001, 0.003),
  all_pass = c(0.01, 0.049, 0.03),
  boundary = c(0.05, 0.05, 0.051)
)
testing_rows <- lapply(names(strategies), function(k) {
  p <- strategies[[k]]
  fixed <- cummax(p)
  stop <- match(TRUE, fixed > alpha)  # first non-significant position (NA if none)
  tested <- if (is.na(stop)) rep(TRUE, length(p)) else seq_along(p) <= stop
  holm <- p.adjust(p, "holm")
  data.frame(case = k, position = seq_along(p), p_value = num(p),
             fixed_p_adjusted = num(fixed), fixed_rejected = fixed <= alpha,
             fixed_tested = tested, holm_p_adjusted = num(holm), holm_rejected = holm <= alpha)
})
write(do.call(rbind, testing_rows), "testing")

# ---- versions ------------------------------------------------------------------------------
packages <- c("effectsize", "datawizard", "insight", "stats")
write(rbind(data.frame(package = "R", version = paste(R.version$major, R.version$minor, sep = ".")),
            data.frame(package = packages,
                       version = sapply(packages, function(p) as.character(packageVersion(p))))),
      "versions")
