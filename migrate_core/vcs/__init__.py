"""Layer 3: the only package that runs git."""
