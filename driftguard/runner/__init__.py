"""driftguard.runner."""
