"""MLflow: the experiment (its client and write lock), its runs, the registry, pruning
(housekeeping), credentials kept out of what is shown, what a run records, the run
summary, the registered model's files and code, serving the champion, the status
view, and releasing an evening's decision (publish, register, record).

The top room: it may import every other; nothing imports it but the orchestration
(`flows/`, `tasks/`) and the command line.
"""
