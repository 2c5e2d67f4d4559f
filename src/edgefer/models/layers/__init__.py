"""Building blocks shared by the model architectures (one block family per module)."""
