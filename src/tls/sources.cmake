# Sources of the tls component (paths relative to src/).
