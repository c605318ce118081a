"""The Poisson distribution: the NB's theta -> infinity limit, its stable deviance form and its log-PMF kernel.

Listed after the NB, whose Poisson-limit branches use its stable forms.
"""

ORDER = 1
