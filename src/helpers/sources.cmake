# Sources of the helpers component (paths relative to src/).
