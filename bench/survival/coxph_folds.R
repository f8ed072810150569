# Cross-validated Harrell's C, Brier scores and integrated Brier score of
# abscopal's survival models (their out-of-fold predictions, NAME=OOF.csv,
# the same folds) and of R's plain coxph fitted on those folds to the same
# patients' raw features (FEATS, from abscopal features), all judged by the
# same R functions: survival's concordance() and riskRegression's Score
# (censoring weights from the Kaplan-Meier). Called by run.sh:
#   Rscript coxph_folds.R FEATS.csv TIME EVENT NAME=OOF.csv [NAME=OOF.csv ...]
suppressMessages({library(survival); library(riskRegression)})
args <- commandArgs(trailingOnly = TRUE)
feats <- read.csv(args[1], stringsAsFactors = TRUE)
tcol <- args[2]; ecol <- args[3]
runs <- strsplit(args[-(1:3)], "=")
oofs <- lapply(runs, function(r) read.csv(r[2]))
names(oofs) <- sapply(runs, `[`, 1)
oof <- oofs[[1]]
d <- merge(feats, oof[, c("sample_id", "fold", "linear_predictor", grep("^survival_", names(oof), value = TRUE))], by = "sample_id")
d$time <- d[[tcol]]
d$event <- as.integer(d[[ecol]] == "true")
times <- as.numeric(sub("survival_", "", grep("^survival_", names(oof), value = TRUE)))
drop <- c("sample_id", "fold", "linear_predictor", "time", "event", "os_months", "os_event", "pfs_months", "pfs_event", "response",
          grep("^survival_", names(d), value = TRUE))
covs <- setdiff(names(d), drop)
for (c in covs) if (is.logical(d[[c]]) || all(d[[c]] %in% c("true", "false"))) d[[c]] <- as.integer(as.character(d[[c]]) == "true")
cat("covariates:", paste(covs, collapse = ", "), "\n")
f <- as.formula(paste("Surv(time, event) ~", paste(covs, collapse = " + ")))
lp <- numeric(nrow(d)); S <- matrix(NA, nrow(d), length(times))
for (k in sort(unique(d$fold))) {
  tr <- d$fold != k; te <- d$fold == k
  fit <- coxph(f, data = d[tr, ], ties = "efron")
  lp[te] <- predict(fit, newdata = d[te, ], type = "lp")
  S[te, ] <- t(summary(survfit(fit, newdata = d[te, ], ctype = 1), times = times, extend = TRUE)$surv)
}
cols <- paste0("survival_", format(times, trim = TRUE, drop0trailing = TRUE))
# Each run's predictions, aligned with d; the folds must be the first's.
aligned <- lapply(oofs, function(o) { o <- o[match(d$sample_id, o$sample_id), ]; stopifnot(all(o$fold == d$fold)); o })
preds <- c(lapply(aligned, function(o) 1 - as.matrix(o[, cols])), list(coxph = 1 - S))
cfun <- function(x) concordance(Surv(d$time, d$event) ~ x, reverse = TRUE)$concordance
# Harrell's C within each fold, averaged: free of the folds' models' offsets.
cfold <- function(x) mean(sapply(sort(unique(d$fold)), function(k) {
  i <- d$fold == k
  concordance(Surv(d$time[i], d$event[i]) ~ x[i], reverse = TRUE)$concordance
}))
sc <- Score(preds, formula = Surv(time, event) ~ 1, data = d, times = times,
            metrics = "brier", null.model = TRUE, cens.model = "km", conf.int = FALSE, summary = "ibs")
b <- sc$Brier$score
last <- max(times)
cat(sprintf("%s\t%d patients, %d events, %d folds\n", tcol, nrow(d), sum(d$event), length(unique(d$fold))))
for (m in c(names(aligned), "coxph", "Null model")) {
  x <- if (m %in% names(aligned)) aligned[[m]]$linear_predictor else if (m == "coxph") lp else NULL
  c_ <- if (is.null(x)) NA else cfun(x)
  cf <- if (is.null(x)) NA else cfold(x)
  bb <- b[model == m]
  cat(sprintf("%-14s\tC pooled %s, within folds %s\tBrier at 6/12/24 %s\tIBS to %g %.4f\n", m, ifelse(is.na(c_), "-", sprintf("%.4f", c_)), ifelse(is.na(cf), "-", sprintf("%.4f", cf)),
      paste(sprintf("%.4f", bb[times %in% c(6, 12, 24)]$Brier), collapse = "/"), last, bb[times == last]$IBS))
}
