"""driftguard.detect."""
