"""driftguard.reference."""
