# Heavily tied discrete data on which R's normal-approximation Wilcoxon interval is no proper
# interval, as with the knee cohort's HSS pain score (steps of 5 points).
#
# Usage (from the repository root):
#   Rscript tests/reference/heavy_ties.R
# writes tests/reference/heavy_ties_data.csv (case, test, x, y) and
#        tests/reference/heavy_ties_results.csv (what wilcox.test(conf.int = TRUE) returns).
#
# Why: with ties (or zeros) R inverts the standardised statistic W(d) with uniroot(tol = 1e-4).
# W is a step function of the shift d that jumps only at the Walsh averages (paired) / the
# pairwise differences (two samples). On a coarse lattice a single jump can be bigger than
# 2 * qnorm(0.975): W leaps from above +1.96 to below -1.96 at one point. Both limits are then
# roots at that one discontinuity, each returned on whichever side of it Brent's method stopped
# (within tol.root), so the interval has width ~1e-4, its limits may come out reversed
# (lower > upper), and the estimate (the root of the uncorrected W) may fall just outside it.
# The `jump` column is the discontinuity nearest the estimate; `w_below`, `w_at`, `w_above` are
# W (with continuity correction, as for the interval) at jump - 1e-3, jump and jump + 1e-3.
# `hodges_lehmann` is the median of all Walsh averages (zero changes included) / of all
# pairwise differences, computed directly.
#
# Cases:
#   paired_zero_width    12 changes: -5, 5 x10, 10                  limits both 5, zero width
#   paired_zeros         19 changes: -5, 0 x8, 5 x9, 10             as the knee HSS pain score:
#                        limits both 5, estimate 5 - 5e-5 just below them, Hodges-Lehmann 2.5
#   paired_inverted      52 changes: -5, 0 x2, 5 x39, 10 x7, 15 x3  limits both 5, lower > upper
#   paired_outside       29 changes: -5 x2, 0 x2, 5 x6, 10 x18, 15  estimate just above upper
#   two_sample_zero_width  x, y on 0, 5, ..., 20                   limits both -5
#   two_sample_outside     x, y on 0, 5, ..., 20                   estimate just below lower
here <- "tests/reference"
lattice <- c(-5, 0, 5, 10, 15)
paired <- list(
  paired_zero_width = rep(lattice, c(1, 0, 10, 1, 0)),
  paired_zeros = rep(lattice, c(1, 8, 9, 1, 0)),
  paired_inverted = rep(lattice, c(1, 2, 39, 7, 3)),
  paired_outside = rep(lattice, c(2, 2, 6, 18, 1))
)
scores <- c(0, 5, 10, 15, 20)
two_sample <- list(
  two_sample_zero_width = list(x = rep(scores, c(1, 0, 4, 12, 1)),
                               y = rep(scores, c(3, 0, 2, 0, 13))),
  two_sample_outside = list(x = rep(scores, c(2, 14, 0, 3, 2)),
                            y = rep(scores, c(1, 2, 0, 1, 8)))
)

walsh_median <- function(d) {
  w <- outer(d, d, "+") / 2
  median(w[!lower.tri(w)])
}
# W(d) of stats:::wilcox.test.default, two-sided, with continuity correction
w_paired <- function(x, d) {
  x <- x[x != 0]
  xd <- x - d
  xd <- xd[xd != 0]
  nx <- length(xd)
  dr <- rank(abs(xd))
  zd <- sum(dr[xd > 0]) - nx * (nx + 1) / 4
  ties <- table(dr)
  (zd - sign(zd) * 0.5) / sqrt(nx * (nx + 1) * (2 * nx + 1) / 24 - sum(ties^3 - ties) / 48)
}
w_two <- function(x, y, d) {
  dr <- rank(c(x - d, y))
  nx <- length(x); ny <- length(y)
  dz <- sum(dr[seq_along(x)]) - nx * (nx + 1) / 2 - nx * ny / 2
  ties <- table(dr)
  (dz - sign(dz) * 0.5) /
    sqrt((nx * ny / 12) * ((nx + ny + 1) - sum(ties^3 - ties) / ((nx + ny) * (nx + ny - 1))))
}
result_row <- function(case, test, wt, hl, jumps, w) {
  ci <- wt$conf.int
  jump <- jumps[which.min(abs(jumps - wt$estimate))]
  data.frame(
    case = case, test = test, statistic = unname(wt$statistic), p_value = wt$p.value,
    estimate = unname(wt$estimate), ci_low = ci[1], ci_high = ci[2],
    conf_level = attr(ci, "conf.level"), hodges_lehmann = hl, jump = jump,
    w_below = w(jump - 1e-3), w_at = w(jump), w_above = w(jump + 1e-3)
  )
}

data <- list()
results <- list()
for (case in names(paired)) {
  d <- paired[[case]]
  before <- rep(c(10, 15, 20), length.out = length(d))
  after <- before + d
  data[[case]] <- data.frame(case = case, test = "paired", x = after, y = before)
  wt <- suppressWarnings(wilcox.test(after, before, paired = TRUE, conf.int = TRUE))
  nz <- d[d != 0]
  walsh <- outer(nz, nz, "+") / 2
  results[[case]] <- result_row(case, "signed_rank", wt, walsh_median(d),
                                unique(walsh[!lower.tri(walsh)]),
                                function(s) w_paired(d, s))
}
for (case in names(two_sample)) {
  x <- two_sample[[case]]$x
  y <- two_sample[[case]]$y
  data[[case]] <- rbind(data.frame(case = case, test = "two_sample", x = x, y = NA),
                        data.frame(case = case, test = "two_sample", x = NA, y = y))
  wt <- suppressWarnings(wilcox.test(x, y, conf.int = TRUE))
  results[[case]] <- result_row(case, "rank_sum", wt, median(outer(x, y, "-")),
                                unique(as.vector(outer(x, y, "-"))),
                                function(s) w_two(x, y, s))
}
results <- do.call(rbind, results)
for (column in names(results)) if (is.numeric(results[[column]])) {
  results[[column]] <- sprintf("%.17g", results[[column]])
}
write.csv(do.call(rbind, data), file.path(here, "heavy_ties_data.csv"), row.names = FALSE,
          na = "")
write.csv(results, file.path(here, "heavy_ties_results.csv"), row.names = FALSE)
