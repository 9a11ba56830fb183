"""The built-in formats. Importing this package registers each one, explicitly, in this order."""

from fashiondata.formats import coco  # noqa: F401
from fashiondata.formats import lvis  # noqa: F401
from fashiondata.formats import voc, csvfile, tfrecord  # noqa: F401
from fashiondata.formats import via, deepfashion2  # noqa: F401
from fashiondata.formats import masks, yolo  # noqa: F401
