"""What each `lacak` command does, beyond starting a process: in Bahasa, with clear refusals."""
