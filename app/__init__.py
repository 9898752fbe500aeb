"""AdvLab: adversarial examples and GANs, served by FastAPI (app.main), with a CLI (app.cli)."""

import os

# torch's CPU threads come from OpenMP (libgomp), which reads this when torch is first imported.
# Its default, 300,000 spins (milliseconds here), keeps the model thread's helpers busy-waiting
# long after each operation, taking a core from the event loop that renders the responses;
# 10,000 spans the gaps between the operations of one forward pass. Measured with wrk (docs/benchmarks.md,
# "A lecture hall"): FGSM with batching 346 against 291 requests/s, without 115 against 120.
os.environ.setdefault("GOMP_SPINCOUNT", "10000")
