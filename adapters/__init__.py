"""Platform adapters: one folder per platform (normalise, render, and the SDK wiring)."""
