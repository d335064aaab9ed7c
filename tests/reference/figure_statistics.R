# Reference numbers for the statistics the figures draw (trialflow.stats.descriptives.mean_ci,
# trialflow.stats.effects.pooled_sd / standardise), computed with R's own functions.
#
# Usage (from the repository root):
#   Rscript tests/reference/figure_statistics.R
# writes tests/reference/figure_statistics.csv: one row per case with
#   case, quantity, level, value
# Sources: t.test(x, conf.level = level)$conf.int (the t interval of a mean),
# effectsize::sd_pooled(x, y) (pooled SD), effectsize::cohens_d(x, y, pooled_sd = TRUE)
# (a difference over the pooled SD; its CI scaled the same way is what the forest plot draws).
suppressPackageStartupMessages(library(effectsize))

g1 <- sleep$extra[sleep$group == 1]
g2 <- sleep$extra[sleep$group == 2]
with_na <- c(3.1, NA, 4.7, 2.2, 5.9, NA, 3.3)
rows <- list()
add <- function(case, quantity, level, value) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, quantity = quantity, level = level,
                                          value = value)
}
for (case in c("sleep_group1", "sleep_group2", "with_na")) {
  x <- switch(case, sleep_group1 = g1, sleep_group2 = g2, with_na = with_na)
  for (level in c(0.95, 0.9)) {
    ci <- t.test(x, conf.level = level)$conf.int
    add(case, "mean", level, mean(x, na.rm = TRUE))
    add(case, "ci_low", level, ci[1])
    add(case, "ci_high", level, ci[2])
    add(case, "n", level, sum(!is.na(x)))
  }
}
add("sleep_groups", "sd_pooled", NA, sd_pooled(g2, g1))
add("unequal_groups", "sd_pooled", NA, sd_pooled(c(1, 2, 3), c(2, 4, 6, 8)))
# the standardised difference: (mean2 - mean1) / pooled SD, with the Welch t interval scaled
welch <- t.test(g2, g1)
d <- cohens_d(g2, g1, pooled_sd = TRUE)
add("sleep_groups", "difference", NA, unname(welch$estimate[1] - welch$estimate[2]))
add("sleep_groups", "welch_ci_low", 0.95, welch$conf.int[1])
add("sleep_groups", "welch_ci_high", 0.95, welch$conf.int[2])
add("sleep_groups", "cohens_d", NA, d$Cohens_d)
out <- do.call(rbind, rows)
write.csv(out, "tests/reference/figure_statistics.csv", row.names = FALSE, na = "")
