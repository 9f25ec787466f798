# Sources of the server component (paths relative to src/).
