/* The parts of the ONNX file format (a ModelProto, Protocol Buffers
 * encoded) that libfer writes and reads: message field numbers and enum
 * values from the public onnx.proto description. Shared by onnx_export.c
 * and onnx_import.c. */
#ifndef FER_NN_ONNX_H
#define FER_NN_ONNX_H

/* What the exporter writes: IR version 7 goes with opset 13. */
#define FER__ONNX_IR_VERSION 7
#define FER__ONNX_OPSET 13

/* ModelProto */
enum {
  ONNX_MODEL_IR_VERSION = 1, ONNX_MODEL_PRODUCER_NAME = 2,
  ONNX_MODEL_PRODUCER_VERSION = 3, ONNX_MODEL_DOC_STRING = 6,
  ONNX_MODEL_GRAPH = 7, ONNX_MODEL_OPSET_IMPORT = 8,
  ONNX_MODEL_METADATA_PROPS = 14
};
/* OperatorSetIdProto, StringStringEntryProto */
enum { ONNX_OPSET_DOMAIN = 1, ONNX_OPSET_VERSION = 2 };
enum { ONNX_ENTRY_KEY = 1, ONNX_ENTRY_VALUE = 2 };
/* GraphProto */
enum {
  ONNX_GRAPH_NODE = 1, ONNX_GRAPH_NAME = 2, ONNX_GRAPH_INITIALIZER = 5,
  ONNX_GRAPH_DOC_STRING = 10, ONNX_GRAPH_INPUT = 11, ONNX_GRAPH_OUTPUT = 12,
  ONNX_GRAPH_VALUE_INFO = 13
};
/* NodeProto */
enum {
  ONNX_NODE_INPUT = 1, ONNX_NODE_OUTPUT = 2, ONNX_NODE_NAME = 3,
  ONNX_NODE_OP_TYPE = 4, ONNX_NODE_ATTRIBUTE = 5, ONNX_NODE_DOMAIN = 7
};
/* AttributeProto and its AttributeType values */
enum {
  ONNX_ATTR_NAME = 1, ONNX_ATTR_F = 2, ONNX_ATTR_I = 3, ONNX_ATTR_S = 4,
  ONNX_ATTR_T = 5, ONNX_ATTR_FLOATS = 7, ONNX_ATTR_INTS = 8,
  ONNX_ATTR_TYPE = 20
};
enum {
  ONNX_ATTR_TYPE_FLOAT = 1, ONNX_ATTR_TYPE_INT = 2, ONNX_ATTR_TYPE_STRING = 3,
  ONNX_ATTR_TYPE_TENSOR = 4, ONNX_ATTR_TYPE_FLOATS = 6, ONNX_ATTR_TYPE_INTS = 7
};
/* TensorProto and its DataType values */
enum {
  ONNX_TENSOR_DIMS = 1, ONNX_TENSOR_DATA_TYPE = 2, ONNX_TENSOR_FLOAT_DATA = 4,
  ONNX_TENSOR_INT32_DATA = 5, ONNX_TENSOR_INT64_DATA = 7, ONNX_TENSOR_NAME = 8,
  ONNX_TENSOR_RAW_DATA = 9, ONNX_TENSOR_DATA_LOCATION = 14
};
enum { ONNX_FLOAT = 1, ONNX_INT32 = 6, ONNX_INT64 = 7 };
/* ValueInfoProto, TypeProto, TypeProto.Tensor, TensorShapeProto(.Dimension) */
enum { ONNX_VALUE_NAME = 1, ONNX_VALUE_TYPE = 2 };
enum { ONNX_TYPE_TENSOR = 1 };
enum { ONNX_TTYPE_ELEM_TYPE = 1, ONNX_TTYPE_SHAPE = 2 };
enum { ONNX_SHAPE_DIM = 1 };
enum { ONNX_DIM_VALUE = 1, ONNX_DIM_PARAM = 2 };

/* metadata_props keys the exporter writes and the importer reads back, so
 * that a libfer -> ONNX -> libfer round trip keeps what the graph cannot
 * say (docs/onnx.md). */
#define FER__ONNX_KEY_PREPROCESSING "libfer.preprocessing"   /* "scale mean std" */
#define FER__ONNX_KEY_NORMALIZATION "libfer.image_normalization" /* "flags sharpness" */
#define FER__ONNX_KEY_CLASSES "libfer.class_names"         /* one per line */
#define FER__ONNX_KEY_META_PREFIX "libfer.meta."
/* The canonical architecture text: what ONNX does not keep (dropout,
 * batch-norm momentum, the spelling of padding) comes back from it when it
 * matches the graph. */
#define FER__ONNX_KEY_ARCH "libfer.arch"

#endif
