# Sources of the options component (paths relative to src/).
