# Robust (infinitesimal-jackknife, cluster-aware) standard errors of weighted Kaplan-Meier,
# Aalen-Johansen cumulative incidence and restricted mean survival time, the reference for
# evaluation.survival.influence. Run: Rscript robust_weighted.R survival_checks.csv
# (R 4.2, survival 3.5-3). Data: survival_checks.csv (see README.md), case weights w.
# survfit(..., weights = w, robust = TRUE, cluster = set_id) gives the robust SE of the curve;
# print(fit, rmean = ) does not use the robust variance, so the RMST's robust SE is computed
# here from survfit's own influence values (influence = TRUE): the influence of each cluster on
# the area under the curve up to tau, summed over the intervals between the curve's times.
suppressMessages(library(survival))
args <- commandArgs(TRUE); d <- read.csv(args[1])
d$event <- as.integer(d$status == 1)
d$id <- seq_len(nrow(d))
times <- c(180, 365, 730)
by_arm <- function(name, f) {
  cat("##", name, "\n")
  for (g in c(0, 1)) {
    cat("# treated", g, "\n")
    print(f(d[d$treated == g, ]), digits = 10)
  }
}
km_at <- function(fit) {
  s <- summary(fit, times = times)
  rbind(estimate = s$surv, std_error = s$std.err)
}
by_arm("km_robust_set (survfit, weights w, robust, cluster set_id)", function(x)
  km_at(survfit(Surv(time, event) ~ 1, data = x, weights = w, robust = TRUE, cluster = set_id)))
by_arm("km_robust_row (survfit, weights w, robust, one cluster per row)", function(x)
  km_at(survfit(Surv(time, event) ~ 1, data = x, weights = w, robust = TRUE, cluster = id)))
by_arm("km_robust_entry (survfit Surv(entry, time, event), weights w, robust, cluster set_id)", function(x)
  km_at(survfit(Surv(entry, time, event) ~ 1, data = x[x$entry < x$time, ], weights = w,
                robust = TRUE, cluster = set_id)))
by_arm("km_weighted_plain (survfit, weights w, robust = FALSE)", function(x)
  km_at(survfit(Surv(time, event) ~ 1, data = x, weights = w, robust = FALSE)))
# survival 3.5-3 reports the per-row robust SE for a multi-state curve even with a cluster term
# (and its influence.pstate values do not reproduce that SE exactly), so the clustered
# cumulative incidence is checked in the tests against numerical derivatives instead.
by_arm("cif_robust_row (Aalen-Johansen, state 1, weights w, robust, one cluster per row)", function(x) {
  fit <- survfit(Surv(time, factor(status)) ~ 1, data = x, weights = w, robust = TRUE, cluster = id)
  s <- summary(fit, times = times)
  j <- which(fit$states == "1")
  rbind(estimate = s$pstate[, j], std_error = s$std.err[, j])
})
by_arm("rmst_robust_set (area under the weighted KM up to 365 and 730, robust SE by cluster set_id)", function(x) {
  fit <- survfit(Surv(time, event) ~ 1, data = x, weights = w, robust = TRUE, cluster = set_id,
                 influence = TRUE)
  sapply(c(365, 730), function(tau) {
    k <- fit$time <= tau
    knots <- c(0, fit$time[k], tau)
    widths <- diff(knots)
    area <- sum(c(1, fit$surv[k]) * widths)
    infl <- fit$influence.surv[, k, drop = FALSE] %*% widths[-1]
    c(tau = tau, estimate = area, std_error = sqrt(sum(infl^2)))
  })
})
