# Makes the small committed test cohort with ties and missing values (seeded; rerun to
# regenerate identical CSVs):
#   ties_missing_participants.csv  roster: participant_id, arm, age, sex, smoker
#   ties_missing_long.csv          long: participant_id, arm, visit, week, outcome, value, age, sex
# Outcomes: `speed` (3 decimals, no ties in most cells: exact Wilcoxon branch), `score`
# (integers 0-20, many ties and zero changes: normal-approximation branch) and `sparse`
# (mostly missing in the exercise arm: tiny samples, unachievable confidence levels).
# Usage: Rscript tests/reference/make_ties_missing.R  (from the repository root)
set.seed(20260421)
here <- "tests/reference"
arms <- c(rep("control", 11), rep("exercise", 12))
n <- length(arms)
roster <- data.frame(
  participant_id = sprintf("P%02d", seq_len(n)),
  arm = arms,
  age = round(rnorm(n, 66, 7)),
  sex = sample(c("F", "M"), n, replace = TRUE, prob = c(0.7, 0.3)),
  smoker = sample(c("never", "former", "current"), n, replace = TRUE, prob = c(0.6, 0.3, 0.1))
)
visits <- data.frame(visit = c("baseline", "week8", "week24"), week = c(0, 8, 24))
effect <- ifelse(arms == "exercise", 1, 0)
rows <- list()
for (v in seq_len(nrow(visits))) {
  step <- c(0, 1, 0.6)[v]
  speed <- round(0.9 + 0.02 * (roster$age - 66) / 7 + 0.15 * step * effect + rnorm(n, 0, 0.12), 3)
  score <- pmin(20, pmax(0, round(10 + 3 * step * effect + rnorm(n, 0, 2.5))))
  sparse <- round(50 + 4 * step * effect + rnorm(n, 0, 6), 1)
  speed[sample(n, 2)] <- NA
  score[sample(n, 3)] <- NA
  sparse[arms == "exercise"][sample(12, c(4, 6, 8)[v])] <- NA
  for (outcome in c("speed", "score", "sparse")) {
    rows[[length(rows) + 1]] <- data.frame(
      participant_id = roster$participant_id, arm = roster$arm,
      visit = visits$visit[v], week = visits$week[v], outcome = outcome,
      value = get(outcome), age = roster$age, sex = roster$sex
    )
  }
}
long <- do.call(rbind, rows)
long <- long[order(long$participant_id, long$outcome, long$week), ]
write.csv(roster, file.path(here, "ties_missing_participants.csv"), row.names = FALSE, na = "")
write.csv(long, file.path(here, "ties_missing_long.csv"), row.names = FALSE, na = "")
