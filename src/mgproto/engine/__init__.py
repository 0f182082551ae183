"""Engine: checkpoints, training loop, evaluation, metrics, distributed helpers, logging."""
