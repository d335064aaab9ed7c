# Wilcoxon signed-rank and rank-sum tests at n >= 50 (R's normal-approximation branch), up to a
# few thousand observations, with and without ties and zero differences.
#
# Usage (from the repository root):
#   Rscript tests/reference/large_wilcoxon.R
# writes tests/reference/large_wilcoxon_data.csv (case, test, x, y; paired cases: x after,
#        y before) and tests/reference/large_wilcoxon_results.csv (what
#        wilcox.test(conf.int = TRUE, conf.level = ...) returns, plus the Hodges-Lehmann estimate
#        computed directly: median of all Walsh averages of the differences, zeros included /
#        of all pairwise differences).
#
# The data are written first and read back, so the numbers below are computed on exactly the
# doubles Python reads (values have at most 4 decimals).
here <- "tests/reference"
set.seed(20240611)
lattice <- function(n, values, prob) sample(values, n, replace = TRUE, prob = prob)
paired <- list(
  # n = 60 with distinct changes: the smallest normal-approximation case without ties
  paired_continuous_60 = list(before = round(rnorm(60, 50, 10), 4), change = round(rnorm(60, 2, 4), 4)),
  # integer changes with many zeros: ties and zeros
  paired_integer_zeros_500 = list(before = round(rnorm(500, 30, 6)),
                                  change = lattice(500, -3:5, c(1, 2, 4, 8, 9, 6, 4, 2, 1))),
  # two decimals, some ties, asked for a 90% interval
  paired_rounded_2000 = list(before = round(rnorm(2000, 1, 0.2), 2), change = round(rnorm(2000, 0.03, 0.15), 2),
                             conf_level = 0.9),
  # scores in steps of 5, as the HSS pain score
  paired_lattice_3000 = list(before = lattice(3000, seq(0, 30, 5), rep(1, 7)),
                             change = lattice(3000, seq(-10, 20, 5), c(1, 3, 10, 12, 6, 2, 1)))
)
two_sample <- list(
  two_sample_continuous_60_55 = list(x = round(rnorm(60, 5.5, 2), 4), y = round(rnorm(55, 5, 2), 4)),
  two_sample_integer_800_600 = list(x = lattice(800, 0:10, c(1, 2, 3, 5, 8, 9, 8, 5, 3, 2, 1)),
                                    y = lattice(600, 0:10, c(2, 3, 5, 8, 9, 8, 5, 3, 2, 1, 1))),
  two_sample_unbalanced_3000_40 = list(x = round(rexp(3000, 1 / 3), 3), y = round(rexp(40, 1 / 2.5), 3),
                                       conf_level = 0.99),
  two_sample_rounded_2500_2000 = list(x = round(rnorm(2500, 0.1, 1), 1), y = round(rnorm(2000, 0, 1), 1))
)

data <- list()
for (case in names(paired)) {
  p <- paired[[case]]
  data[[case]] <- data.frame(case = case, test = "paired", x = p$before + p$change, y = p$before)
}
for (case in names(two_sample)) {
  s <- two_sample[[case]]
  data[[case]] <- rbind(data.frame(case = case, test = "two_sample", x = s$x, y = NA),
                        data.frame(case = case, test = "two_sample", x = NA, y = s$y))
}
data_file <- file.path(here, "large_wilcoxon_data.csv")
write.csv(do.call(rbind, data), data_file, row.names = FALSE, na = "")
data <- read.csv(data_file)

walsh_median <- function(d) {
  w <- outer(d, d, "+") / 2
  median(w[!lower.tri(w)])
}
conf_of <- function(case, cases) if (is.null(cases[[case]]$conf_level)) 0.95 else cases[[case]]$conf_level
results <- list()
for (case in unique(data$case)) {
  rows <- data[data$case == case, ]
  if (rows$test[1] == "paired") {
    level <- conf_of(case, paired)
    wt <- suppressWarnings(wilcox.test(rows$x, rows$y, paired = TRUE, conf.int = TRUE,
                                       conf.level = level))
    hl <- walsh_median(rows$x - rows$y)
    test <- "signed_rank"
    n <- nrow(rows)
  } else {
    level <- conf_of(case, two_sample)
    x <- rows$x[!is.na(rows$x)]
    y <- rows$y[!is.na(rows$y)]
    wt <- suppressWarnings(wilcox.test(x, y, conf.int = TRUE, conf.level = level))
    hl <- median(outer(x, y, "-"))
    test <- "rank_sum"
    n <- length(x) + length(y)
  }
  ci <- wt$conf.int
  results[[case]] <- data.frame(
    case = case, test = test, n = n, requested_level = level, statistic = unname(wt$statistic),
    p_value = wt$p.value, estimate = unname(wt$estimate), ci_low = ci[1], ci_high = ci[2],
    conf_level = attr(ci, "conf.level"), hodges_lehmann = hl
  )
}
results <- do.call(rbind, results)
for (column in names(results)) if (is.numeric(results[[column]])) {
  results[[column]] <- sprintf("%.17g", results[[column]])
}
write.csv(results, file.path(here, "large_wilcoxon_results.csv"), row.names = FALSE)
