"""Running model work: the executor (one model thread, batching, a bounded queue), jobs (long work
with progress and owned cancellation) and the background-loop base they share."""
