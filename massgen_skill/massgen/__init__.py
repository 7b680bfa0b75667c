"""The contract with massgen: flags, printed markers, log layout, status file, config, program, inspection."""
