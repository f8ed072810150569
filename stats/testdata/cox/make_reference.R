# Reference values for stats/cox_test.go, from R's survival (coxph, survfit,
# concordance) and glmnet. Run from this directory with the synthetic cohort
# it was made from:
#
#   abscopal synth --n 400 --seed 11 --out /tmp/cohort.csv
#   Rscript make_reference.R /tmp/cohort.csv
#
# It writes os.csv (overall survival and five covariates of the patients with
# none missing; times to 0.1 month, so that events tie) and reference.json.
# The committed os.csv was drawn by the generator synth/v1 (before
# 2026-12-07); synth/v2 draws other survival times for the same seed.
# Without an argument the script reads the committed os.csv and remakes the
# values from it.
# Made with R 4.2.2, survival 3.5-3, glmnet 4.1-6 and riskRegression 2022.11.28
# (Debian bookworm).
suppressMessages({library(survival); library(glmnet); library(riskRegression)})
args <- commandArgs(trailingOnly = TRUE)
if (length(args) > 0) {
  src <- read.csv(args[1], stringsAsFactors = FALSE)
  d <- data.frame(time = round(src$os_months, 1), event = as.integer(src$os_event == "true"),
                  x1 = (src$age - 66) / 10, x2 = src$ecog, x3 = log(src$alc),
                  x4 = src$pdl1_tps / 100, x5 = as.integer(src$rt_dose_gy > 0))
  d <- d[complete.cases(d), ]
  write.csv(d, "os.csv", row.names = FALSE, quote = FALSE)
} else {
  d <- read.csv("os.csv") # Rscript make_reference.R: the values again, from the committed file
}
n <- nrow(d)
X <- as.matrix(d[, c("x1", "x2", "x3", "x4", "x5")])
ctl <- coxph.control(eps = 1e-14, iter.max = 200, toler.chol = 1e-15)

num <- function(x) paste0("[", paste(sprintf("%.17g", x), collapse = ", "), "]")
out <- c()
add <- function(name, x) out <<- c(out, sprintf('  "%s": %s', name, x))

# Efron's ties, no penalty.
fit <- coxph(Surv(time, event) ~ x1 + x2 + x3 + x4 + x5, data = d, ties = "efron", control = ctl)
add("n", n)
add("efron_coef", num(coef(fit)))
add("efron_loglik", sprintf("%.17g", fit$loglik[2]))
# Breslow's baseline cumulative hazard, for covariates all 0 (ctype 1: no
# correction for ties), at the event times.
sf <- survfit(fit, newdata = data.frame(x1 = 0, x2 = 0, x3 = 0, x4 = 0, x5 = 0), ctype = 1)
ev <- sf$n.event > 0
add("baseline_times", num(sf$time[ev]))
add("baseline_cumhaz", num(sf$cumhaz[ev]))
# One patient's survival at 6, 12 and 24 months, and the median.
p1 <- data.frame(x1 = 0.5, x2 = 1, x3 = log(1.2), x4 = 0.5, x5 = 1)
s1 <- survfit(fit, newdata = p1, ctype = 1)
add("patient", num(unlist(p1)))
add("patient_surv_6_12_24", num(summary(s1, times = c(6, 12, 24))$surv))
add("patient_median", sprintf("%.17g", summary(s1)$table["median"]))
# Harrell's C of the linear predictor, on data without tied times (the
# rules for tied times differ between implementations): the times made
# distinct by adding (row - 1) x 1e-6 months.
dd <- d; dd$time <- dd$time + (seq_len(n) - 1) * 1e-6
fd <- coxph(Surv(time, event) ~ x1 + x2 + x3 + x4 + x5, data = dd, ties = "efron", control = ctl)
add("distinct_coef", num(coef(fd)))
add("distinct_concordance", sprintf("%.17g", concordance(fd)$concordance))
# Uno's C: the pairs weighted by 1/G^2 (timewt "n/G2"), to 24 months and
# over all the follow-up.
lpd <- predict(fd, type = "lp")
add("distinct_uno_c", num(sapply(c(24, 1e9), function(tau)
  concordance(Surv(dd$time, dd$event) ~ lpd, reverse = TRUE, timewt = "n/G2", ymax = tau)$concordance)))

# Ridge: coxph's ridge(theta) maximises loglik - theta/2 |b|^2, which is
# FitCox's -loglik/n + lambda/2 |b|^2 with theta = n lambda.
lambda <- 0.05
fr <- coxph(Surv(time, event) ~ ridge(x1, x2, x3, x4, x5, theta = n * lambda, scale = FALSE), data = d,
            ties = "efron", control = ctl)
add("ridge_lambda", lambda)
add("ridge_coef", num(coef(fr)))

# Elastic net, on the data without tied times (glmnet handles ties by
# Breslow's rule): glmnet minimises -loglik/n + lambda (alpha |b|_1 +
# (1-alpha)/2 |b|^2) with standardize = FALSE.
for (a in c(0.5, 1)) {
  g <- glmnet(X, Surv(dd$time, dd$event), family = "cox", alpha = a, lambda = 0.02,
              standardize = FALSE, thresh = 1e-22, maxit = 1e7)
  add(sprintf("enet_alpha_%g_coef", a), num(as.numeric(coef(g))))
}
add("enet_lambda", 0.02)

# The time-dependent AUC and the Brier score, weighted by the inverse
# probability of censoring (Kaplan-Meier), of the Efron fit's predicted
# survival at 6, 12 and 24 months (Breslow's baseline, ctype 1), and of the
# null model (the Kaplan-Meier estimate for all); the integrated Brier
# score at 24 months over those times.
times <- c(6, 12, 24)
risk <- 1 - t(summary(survfit(fit, newdata = d, ctype = 1), times = times)$surv)
sc <- Score(list(cox = risk), formula = Surv(time, event) ~ 1, data = d, times = times, metrics = c("auc", "brier"),
            null.model = TRUE, cens.model = "km", conf.int = FALSE, summary = "ibs")
add("score_times", num(times))
add("score_auc", num(sc$AUC$score[model == "cox"]$AUC))
add("score_brier", num(sc$Brier$score[model == "cox"]$Brier))
add("score_brier_null", num(sc$Brier$score[model == "Null model"]$Brier))
add("score_ibs", num(sc$Brier$score[model == "cox"]$IBS))
add("score_ibs_null", num(sc$Brier$score[model == "Null model"]$IBS))

writeLines(c("{", paste(out, collapse = ",\n"), "}"), "reference.json")
