# Reference numbers for the survival engine beyond competing_risks.R: left truncation, case
# weights, strata with clustering, Fine-Gray clustered on the matched set, weighted Kaplan-Meier
# and the proportional hazards test. Run: Rscript survival_checks.R survival_checks.csv
# (R 4.2, survival 3.5-3).
suppressMessages(library(survival))
args <- commandArgs(TRUE); d <- read.csv(args[1])
d$event <- as.integer(d$status == 1)
show <- function(name, fit) {
  cat("##", name, "\n")
  s <- summary(fit)$coefficients
  print(s, digits = 10)
}
show("cox_entry_cluster (Surv(entry, time, event), efron, robust SE clustered on set_id)",
     coxph(Surv(entry, time, event) ~ treated + x + cluster(set_id), data = d, ties = "efron"))
show("cox_weights_robust (weights w, efron, robust SE per person)",
     coxph(Surv(time, event) ~ treated + x, data = d, weights = w, robust = TRUE, ties = "efron"))
show("cox_strata_cluster (strata(set_id), robust SE clustered on set_id, efron)",
     coxph(Surv(time, event) ~ treated + x + strata(set_id) + cluster(set_id), data = d, ties = "efron"))
fg <- finegray(Surv(time, factor(status)) ~ ., data = d, etype = "1")
show("fine_gray_cluster (finegray + coxph, breslow, robust SE clustered on set_id)",
     coxph(Surv(fgstart, fgstop, fgstatus) ~ treated + x + cluster(set_id), data = fg,
           weights = fgwt, ties = "breslow"))
km <- survfit(Surv(time, event) ~ treated, data = d, weights = w)
cat("## km_weighted survival at 180, 365, 730 by treated (weights w)\n")
print(summary(km, times = c(180, 365, 730))$surv, digits = 10)
f <- coxph(Surv(time, event) ~ treated + x, data = d, ties = "efron")
cat("## cox_zph (cox.zph, transform km, survival 3.x score test) chisq p\n")
print(cox.zph(f, transform = "km")$table, digits = 10)
