"""driftguard.probes."""
