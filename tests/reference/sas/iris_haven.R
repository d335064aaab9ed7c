# Reference values of tests/reference/sas/iris.sas7bdat, read by R's haven (an independent
# reader of the SAS format: ReadStat through haven 2.5.1, not pyreadstat).
# The .sas7bdat file is a copy of haven's own example file inst/examples/iris.sas7bdat
# (https://github.com/tidyverse/haven, MIT licence; installed by Debian's r-cran-haven at
# /usr/lib/R/site-library/haven/examples/iris.sas7bdat).
# Run from the repository root: Rscript tests/reference/sas/iris_haven.R
data <- haven::read_sas("tests/reference/sas/iris.sas7bdat")
data <- as.data.frame(data)
numeric <- vapply(data, is.numeric, logical(1))
data[numeric] <- lapply(data[numeric], function(x) sprintf("%.17g", x))
write.csv(data, "tests/reference/sas/iris_haven.csv", row.names = FALSE, quote = TRUE)
