"""The Gaussian likelihood and the MSE loss it reduces to: derivations, the stable log-density and their kernels.

Listed last: the comparison the seed document makes after the count models.
"""

ORDER = 2
