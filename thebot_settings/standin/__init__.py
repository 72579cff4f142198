"""A stand-in for THE_BOT's API: the same contract, so perftest can be measured against it."""
