"""MLflow: the tracker (runs, registry, housekeeping), what a run records, the run
summary, the registered model's files and code, serving the champion, the status
view, and releasing an evening's decision (publish, register, record).

The top room: it may import every other; nothing imports it but the orchestration
(`flows/`, `tasks/`) and the command line.
"""
