"""Data: formats, layouts, converters, sampling, transforms, heatmaps, datasets."""
