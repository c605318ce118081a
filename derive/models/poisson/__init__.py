"""The Poisson distribution: the NB's theta -> infinity limit, its stable deviance form, its log-PMF kernel
and the mu-gradient of its loss.

Listed after the NB, whose Poisson-limit branches use its stable forms.
"""

ORDER = 1
