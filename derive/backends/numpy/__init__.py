"""The numpy backend: a standalone module that needs only numpy and scipy.special."""
