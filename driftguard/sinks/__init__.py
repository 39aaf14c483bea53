"""driftguard.sinks."""
