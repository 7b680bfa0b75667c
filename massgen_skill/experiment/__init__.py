"""Experiments: a matrix of tasks × configs × repeats, each cell a supervised run; one report and database.

record    the experiment's record and matrix, `status`/`stop` look-ups
cell      one cell: a forked `run` (plan_run + execute) in a folder of its own
runner    the supervisor: at most `parallel` cells at once, stop, resume
control   `status EXP` and `stop EXP`
metrics   a run's figures from the `analysis` readers
database  experiment.sqlite and its `cells` table
summary   per-config figures and the rule for "beyond noise"
report    EXPERIMENT_REPORT.md
chart     the time and cost chart (plain SVG)
"""
