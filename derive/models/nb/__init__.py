"""The Negative Binomial: the seed document's derivations, their stable forms, the NB kernels and their oracle.

Listed first: its kernels (log-PMF, its gradients, the fused value and gradients, P(x = 0)) lead the generated files.
"""

ORDER = 0
