"""The PyTorch backend: the kernels as functions of tensors, differentiable through the derived gradient kernels."""
