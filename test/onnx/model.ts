// A protobuf writer for the few ONNX messages a one-node model needs, so that test/onnx.test.ts can
// build its models in memory (no onnx package, no python, no model files). Field numbers are
// onnx.proto's (github.com/onnx/onnx, onnx/onnx.proto); bench/peers/ort.mjs has its own copy of the
// same idea for the benchmark, which this file leaves alone. Fields are written in field-number order,
// as protoc would, though readers accept any order.

const VARINT = 0, LEN = 2; // wire types

/** TensorProto.DataType */
export const FLOAT = 1, INT64 = 7;

/** Base-128 varint; through BigInt so that negative int64s take their 10-byte two's complement. */
function varint(value: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v) byte |= 0x80;
    out.push(byte);
  } while (v);
  return out;
}

const key = (field: number, wire: number) => varint((field << 3) | wire);
const intField = (field: number, value: number) => [...key(field, VARINT), ...varint(value)];
const bytesField = (field: number, bytes: number[]) => [...key(field, LEN), ...varint(bytes.length), ...bytes];
const stringField = (field: number, text: string) => bytesField(field, [...new TextEncoder().encode(text)]);
/** An embedded message: its fields, concatenated, as one length-delimited field. */
const messageField = (field: number, ...fields: number[][]) => bytesField(field, fields.flat());

export type Attribute = number | string;
/** A graph input or output: name, TensorProto.DataType and shape ([] is a scalar). */
export type Value = [name: string, elemType: number, shape: readonly number[]];

// AttributeProto: name = 1, i = 3, s = 4, type = 20 (AttributeType INT = 2, STRING = 3).
function attribute(name: string, value: Attribute): number[] {
  if (typeof value === "string") return [...stringField(1, name), ...stringField(4, value), ...intField(20, 3)];
  if (Number.isSafeInteger(value)) return [...stringField(1, name), ...intField(3, value), ...intField(20, 2)];
  throw new TypeError(`attribute ${name}: only int and string attributes are written here`);
}

// ValueInfoProto { name = 1, type = 2: TypeProto { tensor_type = 1: Tensor { elem_type = 1,
// shape = 2: TensorShapeProto { dim = 1: Dimension { dim_value = 1 } } } } }.
function valueInfo([name, elemType, shape]: Value): number[] {
  const dims = shape.map((d) => messageField(1, intField(1, d)));
  const tensorType = messageField(1, intField(1, elemType), messageField(2, ...dims));
  return [...stringField(1, name), ...messageField(2, tensorType)];
}

/**
 * A ModelProto holding one node of the default ONNX domain whose inputs and outputs are the graph's
 * (optional inputs such as a loss's weights are graph inputs too, fed at run time).
 */
export function oneNodeModel(m: { opType: string; opset: number; inputs: Value[]; outputs: Value[]; attributes?: Record<string, Attribute> }): Uint8Array {
  // NodeProto: input = 1 (repeated), output = 2 (repeated), name = 3, op_type = 4, attribute = 5.
  const node = [
    ...m.inputs.flatMap(([name]) => stringField(1, name)),
    ...m.outputs.flatMap(([name]) => stringField(2, name)),
    ...stringField(3, m.opType.toLowerCase()),
    ...stringField(4, m.opType),
    ...Object.entries(m.attributes ?? {}).flatMap(([name, value]) => messageField(5, attribute(name, value))),
  ];
  // GraphProto: node = 1, name = 2, input = 11, output = 12.
  const graph = [
    ...messageField(1, node),
    ...stringField(2, m.opType),
    ...m.inputs.flatMap((v) => messageField(11, valueInfo(v))),
    ...m.outputs.flatMap((v) => messageField(12, valueInfo(v))),
  ];
  // ModelProto: ir_version = 1, producer_name = 2, graph = 7, opset_import = 8: OperatorSetIdProto
  // { domain = 1 (absent: the default domain), version = 2 }. IR version 7 goes with opset 13.
  return Uint8Array.from([
    ...intField(1, 7),
    ...stringField(2, "simdmax test"),
    ...messageField(7, graph),
    ...messageField(8, intField(2, m.opset)),
  ]);
}
