"""The built-in formats. Importing this package registers each one, explicitly, in this order."""

from fashiondata.formats import (  # noqa: F401  # noqa: F401  # noqa: F401
    coco,  # noqa: F401
    csvfile,
    deepfashion2,
    lvis,  # noqa: F401
    masks,
    tfrecord,
    via,
    voc,
    yolo,
)
