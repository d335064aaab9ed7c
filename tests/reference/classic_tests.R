# Reference numbers for trialflow.stats, computed with R's own functions.
#
# Usage (from the repository root):
#   Rscript tests/reference/classic_tests.R                      # the committed data sets
#   Rscript tests/reference/classic_tests.R --data=long.csv --arms=control,exercise \
#       --visits=baseline,week8 [--eot=week8] [--fu=week24] [--covariates=age] \
#       [--participants=participants.csv] [--mid=sf36_pcs:5,sf36_mcs:5] \
#       [--lower-better=tug_time,...] [--responder-missing=non_responder|exclude] \
#       --out=tests/reference/classic_tests_<name>
#
# --data is a long CSV: participant_id, arm, visit, outcome, value (+ covariate columns);
# arms are listed reference arm first, visits baseline first. It writes
#   <out>_results.csv       rows keyed like results.csv (outcome, visit, analysis, contrast,
#                           group) with n, estimate, hodges_lehmann, se, df, ci_low,
#                           ci_high, statistic, p_value, effect_size, effect_size_ci_low,
#                           effect_size_ci_high, epsilon
#   <out>_descriptives.csv  n, n_missing, mean, sd, median, q1, q3, min, max per cell
# The single-visit-pair / across-visit tests (RM-ANOVA with Greenhouse-Geisser, Friedman,
# Holm post-hoc) are computed for every arm, as if it were a single-arm study.
# Sources: t.test, wilcox.test(conf.int = TRUE), shapiro.test, lm + confint, car::Anova
# (type II SS; Greenhouse-Geisser), emmeans, friedman.test, fisher.test, chisq.test,
# prop.test, p.adjust; effectsize for Cohen's d_z, Hedges' g and rank-biserial r.
# Effect-size intervals (issue 12): the noncentral-t limits of d_z and Hedges' g inverted
# exactly with uniroot (effectsize's optim stops ~1e-7 short; see analysis_plan.R), the
# rank-biserial intervals of effectsize (paired: rank_biserial(after - before)), and the
# ANCOVA's standardised difference: the adjusted difference and its confidence limits over
# the pooled within-arm SD of the baseline values of the participants in the model.
# For wilcoxon rows `estimate` is what wilcox.test prints (in the normal-approximation case the
# uniroot root of the uncorrected statistic) and `hodges_lehmann` the Hodges-Lehmann estimate
# computed directly (median of all Walsh averages, zeros included / of pairwise differences).
suppressPackageStartupMessages({
  library(car)
  library(emmeans)
  library(effectsize)
})

parse_args <- function(args) {
  out <- list()
  for (a in args) {
    kv <- regmatches(a, regexpr("=", a), invert = TRUE)[[1]]
    out[[sub("^--", "", kv[1])]] <- if (length(kv) > 1) kv[2] else "TRUE"
  }
  out
}
split_list <- function(x) if (is.null(x) || x == "") character(0) else strsplit(x, ",")[[1]]

row <- function(outcome, visit, analysis, contrast, group, n, estimate = NA, se = NA, df = NA,
                ci = c(NA, NA), statistic = NA, p = NA, effect = NA, hodges_lehmann = NA,
                epsilon = NA, effect_ci = c(NA, NA)) {
  data.frame(
    outcome = outcome, visit = visit, analysis = analysis, contrast = contrast, group = group,
    n = n, estimate = unname(estimate), hodges_lehmann = unname(hodges_lehmann),
    se = unname(se),
    df = unname(df), ci_low = unname(ci[1]), ci_high = unname(ci[2]),
    statistic = unname(statistic), p_value = unname(p), effect_size = unname(effect),
    effect_size_ci_low = unname(effect_ci[1]), effect_size_ci_high = unname(effect_ci[2]),
    epsilon = unname(epsilon)
  )
}

# P(T <= t) for the noncentral t. R documents pt(ncp =) as inaccurate for |ncp| > 37.62
# (the knee cohort's d_z of pain reaches t = -37): there the cdf is integrated directly,
# E[pnorm(t sqrt(V / df) - ncp)] over V ~ chi-square(df).
pnt <- function(t, df, ncp) {
  if (abs(ncp) <= 37.62) return(suppressWarnings(pt(t, df, ncp)))
  f <- function(v) pnorm(t * sqrt(v / df) - ncp) * dchisq(v, df)
  spread <- 12 * sqrt(2 * df)
  integrate(f, max(0, df - spread), df + spread, rel.tol = 1e-13, abs.tol = 0,
            subdivisions = 1000L)$value
}
# noncentrality limits of a t statistic, inverted to machine precision
exact_ncp <- function(t, df, conf = 0.95) {
  probs <- c(1 - (1 - conf) / 2, (1 - conf) / 2)
  sapply(probs, function(p) {
    f <- function(ncp) pnt(t, df, ncp) - p
    lo <- t - 5; hi <- t + 5
    while (f(lo) < 0) lo <- lo - 10
    while (f(hi) > 0) hi <- hi + 10
    uniroot(f, c(lo, hi), tol = 1e-13, maxiter = 10000)$root
  })
}
dz_interval <- function(d) {
  n <- length(d)
  exact_ncp(mean(d) / (sd(d) / sqrt(n)), n - 1) / sqrt(n)
}
g_interval <- function(x, y) {
  n1 <- length(x); n2 <- length(y); df <- n1 + n2 - 2
  sp <- sqrt(((n1 - 1) * var(x) + (n2 - 1) * var(y)) / df)
  scale <- sqrt(1 / n1 + 1 / n2)
  j <- exp(lgamma(df / 2) - log(sqrt(df / 2)) - lgamma((df - 1) / 2))
  exact_ncp((mean(x) - mean(y)) / (sp * scale), df) * scale * j
}
# effectsize's Fisher-z interval; none at r = +/-1 (complete separation)
rb_interval <- function(rb) {
  if (abs(rb$r_rank_biserial) >= 1) c(NA, NA) else c(rb$CI_low, rb$CI_high)
}

walsh_median <- function(d) {
  w <- outer(d, d, "+") / 2
  median(w[!lower.tri(w)])
}

paired_rows <- function(outcome, visit, contrast, group, after, before) {
  ok <- complete.cases(after, before)
  after <- after[ok]; before <- before[ok]
  d <- after - before
  n <- length(d)
  out <- list()
  if (n >= 3 && sd(d) > 0) {
    tt <- t.test(after, before, paired = TRUE)
    dz <- cohens_d(after, before, paired = TRUE)$Cohens_d
    out[[1]] <- row(outcome, visit, "paired_t", contrast, group, n, tt$estimate, tt$stderr,
                    tt$parameter, tt$conf.int, tt$statistic, tt$p.value, dz,
                    effect_ci = dz_interval(d))
  }
  if (n >= 3 && any(d != 0)) {
    wt <- suppressWarnings(wilcox.test(after, before, paired = TRUE, conf.int = TRUE))
    rb <- rank_biserial(after, before, paired = TRUE)$r_rank_biserial
    out[[2]] <- row(outcome, visit, "wilcoxon_signed_rank", contrast, group, n,
                    wt$estimate, NA, NA, wt$conf.int, wt$statistic, wt$p.value, rb,
                    hodges_lehmann = walsh_median(d),
                    effect_ci = rb_interval(suppressWarnings(rank_biserial(d))))
  }
  do.call(rbind, out)
}

between_rows <- function(outcome, visit, contrast, x, y) {
  x <- x[!is.na(x)]; y <- y[!is.na(y)]
  if (min(length(x), length(y)) < 3) return(NULL)
  n <- length(x) + length(y)
  tt <- t.test(x, y)
  g <- hedges_g(x, y)$Hedges_g
  wt <- suppressWarnings(wilcox.test(x, y, conf.int = TRUE))
  rb <- suppressWarnings(rank_biserial(x, y))
  rbind(
    row(outcome, visit, "welch_t", contrast, "", n, tt$estimate[1] - tt$estimate[2], tt$stderr,
        tt$parameter, tt$conf.int, tt$statistic, tt$p.value, g, effect_ci = g_interval(x, y)),
    row(outcome, visit, "mann_whitney", contrast, "", n, wt$estimate, NA, NA,
        wt$conf.int, wt$statistic, wt$p.value, rb$r_rank_biserial,
        hodges_lehmann = median(outer(x, y, "-")), effect_ci = rb_interval(rb))
  )
}

shapiro_row <- function(outcome, visit, contrast, group, x) {
  x <- x[!is.na(x)]
  if (length(x) < 3 || diff(range(x)) == 0) return(NULL)
  st <- shapiro.test(x)
  row(outcome, visit, "shapiro_wilk", contrast, group, length(x), statistic = st$statistic,
      p = st$p.value)
}

ancova_rows <- function(outcome, visit, wide, arms, baseline, covariates) {
  data <- data.frame(value = wide[[visit]], baseline = wide[[baseline]],
                     arm = factor(wide$arm, levels = arms))
  for (cv in covariates) data[[cv]] <- wide[[cv]]
  data <- data[complete.cases(data), ]
  form <- reformulate(c("baseline", "arm", covariates), response = "value")
  fit <- lm(form, data = data)
  ci <- confint(fit)
  tab <- summary(fit)$coefficients
  # standardised difference: over the pooled within-arm SD of the model's baselines
  by_arm <- split(data$baseline, data$arm)
  dfs <- sapply(by_arm, function(b) length(b) - 1)
  squares <- sapply(by_arm, function(b) if (length(b) > 1) (length(b) - 1) * var(b) else 0)
  s_base <- sqrt(sum(squares) / sum(dfs))
  out <- list()
  for (a in arms[-1]) {
    term <- paste0("arm", a)
    out[[a]] <- row(outcome, visit, "ancova", paste(a, "-", arms[1]), "", nrow(data),
                    tab[term, 1], tab[term, 2], fit$df.residual, ci[term, ], tab[term, 3],
                    tab[term, 4], tab[term, 1] / s_base, effect_ci = ci[term, ] / s_base)
  }
  em <- as.data.frame(emmeans(fit, "arm"))
  for (i in seq_len(nrow(em))) {
    a <- as.character(em$arm[i])
    out[[paste0("mean_", a)]] <- row(outcome, visit, "ancova", "adjusted mean", a,
                                     sum(data$arm == a), em$emmean[i], em$SE[i], em$df[i],
                                     c(em$lower.CL[i], em$upper.CL[i]))
  }
  do.call(rbind, out)
}

across_rows <- function(outcome, arm, values) {
  complete <- values[complete.cases(values), , drop = FALSE]
  visits <- colnames(values)
  n <- nrow(complete)
  if (n < 3) return(NULL)
  key <- paste(visits, collapse = ", ")
  fit <- lm(as.matrix(complete) ~ 1)
  idata <- data.frame(visit = factor(visits, levels = visits))
  # suppressWarnings: "HF eps > 1 treated as 1" concerns Huynh-Feldt, not used here
  av <- suppressWarnings(summary(Anova(fit, idata = idata, idesign = ~visit, type = 3),
                                 multivariate = FALSE))
  uni <- av$univariate.tests["visit", ]
  if (length(visits) > 2) {
    eps <- av$pval.adjustments["visit", "GG eps"]
    p_gg <- av$pval.adjustments["visit", "Pr(>F[GG])"]
  } else {
    eps <- 1
    p_gg <- uni[["Pr(>F)"]]
  }
  eta <- uni[["Sum Sq"]] / (uni[["Sum Sq"]] + uni[["Error SS"]])
  fr <- friedman.test(as.matrix(complete))
  out <- list(
    row(outcome, "", "rm_anova", key, arm, n, df = uni[["num Df"]] * eps,
        statistic = uni[["F value"]], p = p_gg, effect = eta, epsilon = eps),
    row(outcome, "", "friedman", key, arm, n, df = fr$parameter, statistic = fr$statistic,
        p = fr$p.value, effect = fr$statistic / (n * (length(visits) - 1)))
  )
  pairs <- list()
  for (i in seq_along(visits)) for (j in seq_along(visits)) if (i < j) {
    pairs[[length(pairs) + 1]] <- c(visits[j], visits[i])
  }
  post_t <- list(); post_w <- list()
  for (p in pairs) {
    contrast <- paste(p[1], "-", p[2])
    tt <- t.test(complete[[p[1]]], complete[[p[2]]], paired = TRUE)
    wt <- suppressWarnings(wilcox.test(complete[[p[1]]], complete[[p[2]]], paired = TRUE,
                                       conf.int = TRUE))
    d <- complete[[p[1]]] - complete[[p[2]]]
    dz <- if (sd(d) > 0) mean(d) / sd(d) else NA
    post_t[[contrast]] <- row(outcome, p[1], "posthoc_paired_t", contrast, arm, n,
                              tt$estimate, tt$stderr, tt$parameter, tt$conf.int,
                              tt$statistic, tt$p.value, dz,
                              effect_ci = if (is.na(dz)) c(NA, NA) else dz_interval(d))
    rb <- if (any(d != 0)) suppressWarnings(rank_biserial(d)) else NULL
    post_w[[contrast]] <- row(outcome, p[1], "posthoc_wilcoxon", contrast, arm, n,
                              wt$estimate, NA, NA, wt$conf.int, wt$statistic, wt$p.value,
                              if (is.null(rb)) NA else rb$r_rank_biserial,
                              hodges_lehmann = walsh_median(d),
                              effect_ci = if (is.null(rb)) c(NA, NA) else rb_interval(rb))
  }
  post_t <- do.call(rbind, post_t); post_w <- do.call(rbind, post_w)
  post_t$p_adjusted <- p.adjust(post_t$p_value, "holm")
  post_w$p_adjusted <- p.adjust(post_w$p_value, "holm")
  out <- do.call(rbind, out)
  out$p_adjusted <- NA
  rbind(out, post_t, post_w)
}

# Responders: improvement >= MID in the better direction. missing = "non_responder" counts
# every participant of the roster (or of the data when no roster is given) and a missing
# status as non-response; "exclude" uses the participants with both values. With two or
# more arms also the odds ratio of responding adjusted for baseline:
# glm(responder ~ arm + baseline, binomial) converged to epsilon = 1e-14, Wald limits
# (confint.default); not estimable (NA) when an arm has no responder or only responders.
responder_rows <- function(outcome, visit, wide, arms, baseline, mid, higher, missing, ids) {
  wide <- merge(data.frame(participant_id = ids$participant_id, roster_arm = ids$arm), wide,
                by = "participant_id", all.x = TRUE)
  wide$arm <- wide$roster_arm
  change <- wide[[visit]] - wide[[baseline]]
  resp <- if (higher) change >= mid - 1e-9 * abs(mid) else change <= -mid + 1e-9 * abs(mid)
  if (missing == "non_responder") resp[is.na(resp)] <- FALSE
  counts <- list()
  out <- list()
  for (a in arms) {
    r <- resp[wide$arm == a & !is.na(resp)]
    k <- sum(r); n <- length(r)
    counts[[a]] <- c(k, n)
    if (n > 0) {
      ci <- suppressWarnings(prop.test(k, n, correct = FALSE))$conf.int
      out[[a]] <- row(outcome, visit, "responder", "responders", a, n, k / n, ci = ci,
                      statistic = k)
    }
  }
  for (a in arms[-1]) {
    k1 <- counts[[a]][1]; n1 <- counts[[a]][2]; k0 <- counts[[arms[1]]][1]; n0 <- counts[[arms[1]]][2]
    if (n1 == 0 || n0 == 0) next
    w1 <- suppressWarnings(prop.test(k1, n1, correct = FALSE)$conf.int)
    w0 <- suppressWarnings(prop.test(k0, n0, correct = FALSE)$conf.int)
    p1 <- k1 / n1; p0 <- k0 / n0; d <- p1 - p0
    # Newcombe (1998) method 10: hybrid score interval from the two Wilson intervals
    ci <- c(d - sqrt((p1 - w1[1])^2 + (w0[2] - p0)^2), d + sqrt((w1[2] - p1)^2 + (p0 - w0[1])^2))
    fp <- fisher.test(matrix(c(k1, k0, n1 - k1, n0 - k0), 2))$p.value
    out[[paste0("rd_", a)]] <- row(outcome, visit, "responder", paste(a, "-", arms[1]), "",
                                   n1 + n0, d, ci = ci, p = fp)
  }
  if (length(arms) > 1) {
    data <- data.frame(responder = as.numeric(resp), arm = factor(wide$arm, levels = arms),
                       baseline = wide[[baseline]])
    data <- data[complete.cases(data), ]
    by_arm <- tapply(data$responder, data$arm, function(x) c(sum(x), length(x)))
    separated <- any(sapply(by_arm, function(x) is.null(x) || x[1] == 0 || x[1] == x[2]))
    if (!separated) {
      fit <- glm(responder ~ arm + baseline, family = binomial, data = data,
                 control = glm.control(epsilon = 1e-14, maxit = 100))
      tab <- summary(fit)$coefficients
      wald <- confint.default(fit)
      for (a in arms[-1]) {
        term <- paste0("arm", a)
        out[[paste0("or_", a)]] <- row(
          outcome, visit, "responder_logistic", paste(a, "-", arms[1]), "", nrow(data),
          exp(tab[term, 1]), tab[term, 2], ci = exp(wald[term, ]), statistic = tab[term, 3],
          p = tab[term, 4], effect = tab[term, 1], effect_ci = wald[term, ])
      }
    }
  }
  do.call(rbind, out)
}

categorical_rows <- function(roster, arms, baseline) {
  skip <- c("participant_id", "arm", "last_visit", "withdrawal_reason", "source_file",
            "source_row")
  out <- list()
  for (v in setdiff(names(roster), skip)) {
    if (is.numeric(roster[[v]])) next
    ok <- !is.na(roster[[v]]) & roster[[v]] != ""
    tab <- table(roster$arm[ok], roster[[v]][ok])
    if (min(dim(tab)) < 2) next  # one category: nothing to test
    chi <- suppressWarnings(chisq.test(tab))
    v_cramer <- sqrt(suppressWarnings(chisq.test(tab, correct = FALSE))$statistic /
                       (sum(tab) * (min(dim(tab)) - 1)))
    if (min(chi$expected) >= 5) {
      out[[v]] <- row(v, baseline, "chi_square", paste(arms, collapse = " vs "), "", sum(tab),
                      df = chi$parameter, statistic = chi$statistic, p = chi$p.value,
                      effect = v_cramer)
    } else {
      out[[v]] <- row(v, baseline, "fisher_exact", paste(arms, collapse = " vs "), "", sum(tab),
                      p = fisher.test(tab)$p.value, effect = v_cramer)
    }
  }
  do.call(rbind, out)
}

descriptive_rows <- function(long, arms, visits) {
  out <- list()
  for (o in sort(unique(long$outcome))) for (a in arms) for (v in visits) {
    cell <- long$value[long$outcome == o & long$arm == a & long$visit == v]
    x <- cell[!is.na(cell)]
    q <- if (length(x)) quantile(x, c(0.25, 0.5, 0.75), type = 7) else rep(NA, 3)
    out[[length(out) + 1]] <- data.frame(
      outcome = o, arm = a, visit = v, n = length(x), n_missing = sum(is.na(cell)),
      mean = if (length(x)) mean(x) else NA, sd = if (length(x) > 1) sd(x) else NA,
      median = q[2], q1 = q[1], q3 = q[3],
      min = if (length(x)) min(x) else NA, max = if (length(x)) max(x) else NA
    )
  }
  do.call(rbind, out)
}

reference_numbers <- function(long, arms, visits, eot = NA, fu = NA, covariates = character(0),
                              mid = list(), lower_better = character(0), roster = NULL,
                              responder_missing = "non_responder") {
  baseline <- visits[1]
  pairs <- lapply(visits[-1], function(v) c(v, baseline))
  if (!is.na(eot) && !is.na(fu)) pairs <- c(pairs, list(c(fu, eot)))
  rows <- list()
  add <- function(x) if (!is.null(x)) rows[[length(rows) + 1]] <<- x
  if (!is.null(roster) && length(arms) > 1) add(categorical_rows(roster, arms, baseline))
  for (o in sort(unique(long$outcome))) {
    d <- long[long$outcome == o, ]
    ids <- sort(unique(d$participant_id))
    wide <- data.frame(participant_id = ids)
    wide$arm <- d$arm[match(ids, d$participant_id)]
    for (v in visits) {
      dv <- d[d$visit == v, ]
      wide[[v]] <- dv$value[match(ids, dv$participant_id)]
    }
    for (cv in covariates) wide[[cv]] <- d[[cv]][match(ids, d$participant_id)]
    for (a in arms) {
      w <- wide[wide$arm == a, ]
      for (v in visits) add(shapiro_row(o, v, "values", a, w[[v]]))
      for (p in pairs) {
        contrast <- paste(p[1], "-", p[2])
        add(shapiro_row(o, p[1], contrast, a, w[[p[1]]] - w[[p[2]]]))
        add(paired_rows(o, p[1], contrast, a, w[[p[1]]], w[[p[2]]]))
      }
      if (length(visits) > 1) add(across_rows(o, a, w[, visits, drop = FALSE]))
    }
    for (a in arms[-1]) {
      x <- wide[wide$arm == a, ]; y <- wide[wide$arm == arms[1], ]
      for (v in visits) add(between_rows(o, v, paste(a, "-", arms[1]), x[[v]], y[[v]]))
      for (p in pairs) {
        contrast <- sprintf("%s - %s (%s - %s)", a, arms[1], p[1], p[2])
        add(between_rows(o, p[1], contrast, x[[p[1]]] - x[[p[2]]], y[[p[1]]] - y[[p[2]]]))
      }
    }
    if (length(arms) > 1) for (v in visits[-1]) add(ancova_rows(o, v, wide, arms, baseline, covariates))
    ids <- if (is.null(roster)) wide[, c("participant_id", "arm")] else
      data.frame(participant_id = as.character(roster$participant_id), arm = roster$arm)
    if (is.null(roster$arm)) ids$arm <- arms[1]
    ids <- ids[ids$arm %in% arms, ]
    if (!is.null(mid[[o]])) for (v in visits[-1]) {
      add(responder_rows(o, v, wide, arms, baseline, mid[[o]], !(o %in% lower_better),
                         responder_missing, ids))
    }
  }
  rows <- lapply(rows, function(r) { if (!"p_adjusted" %in% names(r)) r$p_adjusted <- NA; r })
  do.call(rbind, rows)
}

full_precision <- function(frame) {
  for (column in names(frame)) if (is.numeric(frame[[column]])) {
    frame[[column]] <- ifelse(is.na(frame[[column]]), NA, sprintf("%.17g", frame[[column]]))
  }
  frame
}

write_reference <- function(out, results, descriptives) {
  results <- full_precision(results)
  descriptives <- full_precision(descriptives)
  write.csv(results, paste0(out, "_results.csv"), row.names = FALSE, na = "")
  write.csv(descriptives, paste0(out, "_descriptives.csv"), row.names = FALSE, na = "")
}

read_long <- function(path) {
  long <- read.csv(path, stringsAsFactors = FALSE, na.strings = c("", "NA"))
  long$participant_id <- as.character(long$participant_id)
  long
}

args <- parse_args(commandArgs(trailingOnly = TRUE))
options(digits = 17)
if (is.null(args$data)) {
  here <- "tests/reference"
  # R's sleep data, paired: one arm, two "visits" (drug 1 as baseline, drug 2)
  paired <- data.frame(participant_id = as.character(sleep$ID[1:10]), arm = "sleep",
                       visit = ifelse(sleep$group == "1", "drug1", "drug2"),
                       outcome = "extra", value = sleep$extra)
  paired$participant_id <- as.character(sleep$ID)
  write.csv(paired, file.path(here, "sleep_paired_long.csv"), row.names = FALSE)
  write_reference(file.path(here, "classic_tests_sleep_paired"),
                  reference_numbers(paired, "sleep", c("drug1", "drug2")),
                  descriptive_rows(paired, "sleep", c("drug1", "drug2")))
  # sleep as two independent groups (Welch / Mann-Whitney as in ?t.test)
  groups <- data.frame(participant_id = paste0(sleep$group, "-", sleep$ID),
                       arm = paste0("drug", sleep$group), visit = "day1",
                       outcome = "extra", value = sleep$extra)
  write.csv(groups, file.path(here, "sleep_groups_long.csv"), row.names = FALSE)
  write_reference(file.path(here, "classic_tests_sleep_groups"),
                  reference_numbers(groups, c("drug1", "drug2"), "day1"),
                  descriptive_rows(groups, c("drug1", "drug2"), "day1"))
  # single functions on fixed inputs: p.adjust, chisq.test, fisher.test, prop.test
  p <- c(0.01, 0.04, NA, 0.03, 0.005, 0.04, 0.5, 0.2)
  misc <- list(
    data.frame(name = paste0("holm_", seq_along(p)), value = p.adjust(p, "holm")),
    data.frame(name = paste0("bh_", seq_along(p)), value = p.adjust(p, "BH"))
  )
  tables <- list(
    yates_2x2 = matrix(c(12, 5, 7, 14), 2),
    pearson_2x3 = matrix(c(20, 15, 12, 18, 9, 11), 2),
    fisher_2x2 = matrix(c(3, 1, 1, 3), 2),
    fisher_2x4 = matrix(c(3, 0, 1, 4, 2, 5, 0, 2), 2)
  )
  for (name in names(tables)) {
    tab <- tables[[name]]
    if (startsWith(name, "fisher")) {
      misc[[name]] <- data.frame(name = paste0(name, "_p"), value = fisher.test(tab)$p.value)
    } else {
      chi <- chisq.test(tab)
      misc[[name]] <- data.frame(name = paste0(name, c("_statistic", "_df", "_p")),
                                 value = c(chi$statistic, chi$parameter, chi$p.value))
    }
  }
  for (kn in list(c(0, 12), c(12, 12), c(5, 17), c(1, 3))) {
    ci <- suppressWarnings(prop.test(kn[1], kn[2], correct = FALSE))$conf.int
    misc[[paste(kn, collapse = "_")]] <- data.frame(
      name = paste0("wilson_", kn[1], "_", kn[2], c("_low", "_high")), value = ci)
  }
  write.csv(full_precision(do.call(rbind, misc)), file.path(here, "classic_tests_misc.csv"),
            row.names = FALSE, na = "")
  # the committed cohort with ties and missing values
  long <- read_long(file.path(here, "ties_missing_long.csv"))
  roster <- read.csv(file.path(here, "ties_missing_participants.csv"), stringsAsFactors = FALSE)
  visits <- c("baseline", "week8", "week24")
  write_reference(
    file.path(here, "classic_tests_ties_missing"),
    reference_numbers(long, c("control", "exercise"), visits, eot = "week8", fu = "week24",
                      covariates = c("age", "sex"), mid = list(score = 3, speed = 0.1),
                      roster = roster),
    descriptive_rows(long, c("control", "exercise"), visits)
  )
} else {
  long <- read_long(args$data)
  arms <- split_list(args$arms)
  visits <- split_list(args$visits)
  mid <- list()
  for (kv in split_list(args$mid)) {
    kv <- strsplit(kv, ":")[[1]]
    mid[[kv[1]]] <- as.numeric(kv[2])
  }
  roster <- if (is.null(args$participants)) NULL else
    read.csv(args$participants, stringsAsFactors = FALSE)
  write_reference(
    args$out,
    reference_numbers(long, arms, visits,
                      eot = if (is.null(args$eot)) NA else args$eot,
                      fu = if (is.null(args$fu)) NA else args$fu,
                      covariates = split_list(args$covariates), mid = mid,
                      lower_better = split_list(args[["lower-better"]]), roster = roster,
                      responder_missing = if (is.null(args[["responder-missing"]]))
                        "non_responder" else args[["responder-missing"]]),
    descriptive_rows(long, arms, visits)
  )
}
