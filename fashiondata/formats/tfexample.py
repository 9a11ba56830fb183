"""TFRecord framing and ``tf.train.Example`` encoding/decoding, without TensorFlow.

A TFRecord file is a sequence of records, each framed as (TensorFlow's ``record_writer.cc``, documented
at https://www.tensorflow.org/tutorials/load_data/tfrecord#tfrecords_format_details)::

    uint64 length            little-endian
    uint32 masked_crc32c(length bytes)
    byte   data[length]
    uint32 masked_crc32c(data)

with ``masked_crc = ((crc >> 15) | (crc << 17)) + 0xa282ead8`` over CRC-32C (Castagnoli, from the
``crc32c`` package). Each record here is a serialized ``tf.train.Example``. The message classes are
built at import with protobuf's runtime from the documented field numbers of TensorFlow's
``example.proto``/``feature.proto`` (https://www.tensorflow.org/api_docs/python/tf/train/Example)::

    Example   { Features features = 1; }
    Features  { map<string, Feature> feature = 1; }
    Feature   { oneof kind { BytesList bytes_list = 1; FloatList float_list = 2; Int64List int64_list = 3; } }
    BytesList { repeated bytes value = 1; }
    FloatList { repeated float value = 1 [packed]; }
    Int64List { repeated int64 value = 1 [packed]; }

They live in a private descriptor pool, so they never clash with another copy of the schema (the
``tfrecord`` package's, TensorFlow's) loaded in the same process.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator, Mapping, Sequence

import crc32c
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

from fashiondata.errors import ParseError

FeatureValue = Sequence[bytes] | Sequence[float] | Sequence[int]
_KINDS = ("bytes_list", "float_list", "int64_list")
_MASK_DELTA = 0xA282EAD8
_HEADER = struct.Struct("<QI")
_CRC = struct.Struct("<I")


def _build_example_class() -> type:
    """The ``Example`` message class, built from field numbers (no .proto file copied)."""
    proto = descriptor_pb2.FileDescriptorProto(
        name="fashiondata_tf_example.proto", package="tensorflow", syntax="proto3"
    )
    F = descriptor_pb2.FieldDescriptorProto
    for name, kind in (("BytesList", F.TYPE_BYTES), ("FloatList", F.TYPE_FLOAT), ("Int64List", F.TYPE_INT64)):
        message = proto.message_type.add(name=name)
        message.field.add(name="value", number=1, type=kind, label=F.LABEL_REPEATED)
    feature = proto.message_type.add(name="Feature")
    feature.oneof_decl.add(name="kind")
    for number, (field, type_name) in enumerate(
        (("bytes_list", "BytesList"), ("float_list", "FloatList"), ("int64_list", "Int64List")), 1
    ):
        feature.field.add(
            name=field,
            number=number,
            type=F.TYPE_MESSAGE,
            label=F.LABEL_OPTIONAL,
            type_name=f".tensorflow.{type_name}",
            oneof_index=0,
        )
    features = proto.message_type.add(name="Features")
    entry = features.nested_type.add(name="FeatureEntry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    entry.field.add(
        name="value", number=2, type=F.TYPE_MESSAGE, label=F.LABEL_OPTIONAL, type_name=".tensorflow.Feature"
    )
    features.field.add(
        name="feature",
        number=1,
        type=F.TYPE_MESSAGE,
        label=F.LABEL_REPEATED,
        type_name=".tensorflow.Features.FeatureEntry",
    )
    example = proto.message_type.add(name="Example")
    example.field.add(
        name="features", number=1, type=F.TYPE_MESSAGE, label=F.LABEL_OPTIONAL, type_name=".tensorflow.Features"
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("tensorflow.Example"))


Example = _build_example_class()


# ---------------------------------------------------------------- tf.train.Example


def encode_example(features: Mapping[str, tuple[str, FeatureValue]]) -> bytes:
    """Serialize ``{key: (kind, values)}`` (kind ``bytes_list``/``float_list``/``int64_list``).

    Map keys are written sorted (deterministic serialization), so equal inputs give equal bytes.

    >>> data = encode_example({"image/height": ("int64_list", [5])})
    >>> decode_example(data)
    {'image/height': ('int64_list', [5])}
    """
    example = Example()
    feature_map = example.features.feature
    for key, (kind, values) in features.items():
        if kind not in _KINDS:
            raise ValueError(f"unknown feature kind {kind!r} for {key!r}")
        getattr(feature_map[key], kind).value.extend(values)
    return example.SerializeToString(deterministic=True)


def decode_example(data: bytes) -> dict[str, tuple[str, list]]:
    """``{key: (kind, values)}`` of a serialized Example; a feature with no kind set gets ``(None, [])``.

    Raises DecodeError (from protobuf) for bytes that are not an Example.
    """
    example = Example()
    example.ParseFromString(data)
    decoded: dict[str, tuple[str, list]] = {}
    for key, feature in example.features.feature.items():
        kind = feature.WhichOneof("kind")
        decoded[key] = (kind, list(getattr(feature, kind).value)) if kind else (None, [])  # type: ignore[assignment]
    return decoded


# ---------------------------------------------------------------- TFRecord framing


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC-32C of ``data``.

    >>> hex(masked_crc32c(b""))
    '0xa282ead8'
    """
    crc = crc32c.crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF


def frame_record(data: bytes) -> bytes:
    """One record as it sits in a TFRecord file (header, data, data CRC)."""
    length = struct.pack("<Q", len(data))
    return length + _CRC.pack(masked_crc32c(length)) + data + _CRC.pack(masked_crc32c(data))


class RecordError(ParseError):
    """A TFRecord frame is corrupt or truncated; ``resumable`` says whether the next record can be
    found (a bad data CRC: yes; a bad length or a truncated file: no)."""

    def __init__(self, path: object, reason: str, location: str | None = None, resumable: bool = False) -> None:
        super().__init__(path, reason, location)
        self.resumable = resumable

    def __reduce__(self):
        return (type(self), (self.path, self.reason, self.location, self.resumable))


def iter_records(path: str | os.PathLike[str]) -> Iterator[tuple[int, int, bytes | RecordError]]:
    """Yield ``(index, byte offset, data)`` for each record, checking both CRCs.

    A record whose data CRC fails is yielded as a resumable :class:`RecordError` in place of its data
    (the caller decides to raise or skip); a bad length CRC or a truncated file raises RecordError,
    since nothing after it can be trusted.
    """
    with open(path, "rb") as f:
        index = offset = 0
        while True:
            header = f.read(_HEADER.size)
            if not header:
                return
            where = f"record {index} at byte {offset}"
            if len(header) < _HEADER.size:
                raise RecordError(path, f"truncated record header ({len(header)} of 12 bytes)", where)
            length, length_crc = _HEADER.unpack(header)
            if masked_crc32c(header[:8]) != length_crc:
                raise RecordError(path, "length CRC mismatch: corrupt record header", where)
            if length + _CRC.size > os.fstat(f.fileno()).st_size - f.tell():  # never allocate a forged length
                raise RecordError(path, f"truncated record: {length} data bytes announced, file ends first", where)
            data = f.read(length)
            stored = f.read(_CRC.size)
            if len(data) < length or len(stored) < _CRC.size:
                raise RecordError(path, f"truncated record: {length} data bytes announced, file ends first", where)
            if masked_crc32c(data) != _CRC.unpack(stored)[0]:
                yield index, offset, RecordError(path, "data CRC mismatch: corrupt record", where, resumable=True)
            else:
                yield index, offset, data
            index += 1
            offset += _HEADER.size + length + _CRC.size


__all__ = [
    "DecodeError",
    "Example",
    "RecordError",
    "decode_example",
    "encode_example",
    "frame_record",
    "iter_records",
    "masked_crc32c",
]
