# Reference numbers for trialflow.stats.categorical (issue 14): paired categorical change
# (McNemar with continuity correction, Stuart-Maxwell marginal homogeneity) and Fisher's exact
# test of arm by category, on small hand-made tables.
#
# Usage (from the repository root):  Rscript tests/reference/categorical_tests.R
# Writes tests/reference/categorical_tests.csv:
#   case, test, rows, cols, counts, statistic, df, p_value
# `counts` is the table row-major, ';'-separated. Paired tables: rows = baseline category,
# columns = follow-up category (the same levels in the same order).
# Sources: stats::mcnemar.test(correct = TRUE) for 2 x 2; coin::mh_test (asymptotic, the
# Stuart-Maxwell statistic) for K x K; stats::fisher.test for r x c.
suppressPackageStartupMessages(library(coin))

paired <- list(
  mcnemar_a = matrix(c(10, 5, 12, 3), 2, byrow = TRUE),
  mcnemar_b = matrix(c(20, 1, 9, 15), 2, byrow = TRUE),
  mcnemar_c = matrix(c(4, 7, 6, 2), 2, byrow = TRUE),
  sm_3x3 = matrix(c(10, 5, 2, 12, 3, 1, 4, 2, 8), 3, byrow = TRUE),
  sm_4x4 = matrix(c(6, 3, 1, 0, 2, 8, 4, 1, 1, 5, 9, 3, 0, 1, 4, 7), 4, byrow = TRUE),
  sm_3x3_b = matrix(c(30, 12, 3, 4, 25, 9, 0, 2, 15), 3, byrow = TRUE),
  # a level empty at both visits: coin drops it (its generalised inverse has rank 1), df = 1
  sm_empty_level = matrix(c(10, 5, 0, 12, 3, 0, 0, 0, 0), 3, byrow = TRUE)
)
groups <- list(
  fisher_2x2 = matrix(c(3, 9, 8, 2), 2, byrow = TRUE),
  fisher_2x3 = matrix(c(12, 5, 3, 6, 8, 9), 2, byrow = TRUE),
  fisher_2x4 = matrix(c(5, 4, 3, 1, 1, 3, 6, 5), 2, byrow = TRUE),
  fisher_3x3 = matrix(c(4, 2, 1, 2, 5, 3, 0, 2, 6), 3, byrow = TRUE)
)

flat <- function(m) paste(as.vector(t(m)), collapse = ";")
rows <- list()
for (name in names(paired)) {
  m <- paired[[name]]
  if (nrow(m) == 2) {
    r <- mcnemar.test(m, correct = TRUE)
    rows[[name]] <- data.frame(case = name, test = "mcnemar", rows = 2, cols = 2,
      counts = flat(m), statistic = unname(r$statistic), df = unname(r$parameter),
      p_value = r$p.value)
  } else {
    levels <- seq_len(nrow(m))
    dimnames(m) <- list(before = levels, after = levels)
    r <- mh_test(as.table(m))
    rows[[name]] <- data.frame(case = name, test = "stuart_maxwell", rows = nrow(m),
      cols = ncol(m), counts = flat(m), statistic = unname(statistic(r)),
      df = r@statistic@df, p_value = unname(pvalue(r)))
  }
}
for (name in names(groups)) {
  m <- groups[[name]]
  r <- fisher.test(m)
  rows[[name]] <- data.frame(case = name, test = "fisher", rows = nrow(m), cols = ncol(m),
    counts = flat(m), statistic = NA, df = NA, p_value = r$p.value)
}
out <- do.call(rbind, rows)
for (column in c("statistic", "p_value")) {
  out[[column]] <- ifelse(is.na(out[[column]]), "", sprintf("%.17g", out[[column]]))
}
write.csv(out, "tests/reference/categorical_tests.csv", row.names = FALSE, na = "")
