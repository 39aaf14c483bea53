"""The offline demonstration: a tiny model made from scratch, drifting and control fine-tunes."""
