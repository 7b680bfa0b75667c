"""The massgen release this skill is built and tested against: its flags, markers and log layout."""

MASSGEN_VERSION = "0.1.97"
