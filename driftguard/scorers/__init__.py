"""driftguard.scorers."""
