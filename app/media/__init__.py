"""Pictures and datasets: decoding and preparing images, the bounded image store, the gallery of
samples, and the datasets (MNIST, Fashion-MNIST) read from disk."""
