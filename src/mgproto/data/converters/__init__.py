"""Dataset converters: each reads a dataset in the form it is released in.

Each converter module offers a plain ``convert(...)`` returning ``(AnnotationFile,
ConversionReport)``; ``mgproto convert <format>`` (``mgproto.commands.convert``) wires its
options, saves the file and prints the report. The dataset-specific code only reads files into
``Recording`` / ``ClipRange`` objects: cutting, class mapping, validation and skip reporting live
in ``mgproto.data.sequences``.
"""
