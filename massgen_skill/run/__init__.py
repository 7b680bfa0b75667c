"""One run's life: process layer, launcher, relay of massgen's markers, outcome, record."""
