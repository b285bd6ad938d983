"""The `tickercast` command's exit codes, which every command returns."""

# every ticker succeeded; some ticker failed (or something stored is broken); bad usage
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
