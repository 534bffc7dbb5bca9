"""Learned hybrid dynamics (SimGAN-style GAIL) on top of simmatch's engine backends."""
