using NativeIg.Tensors.IO;

namespace NativeIg.Onnx;

/// <summary>
/// Reads an ONNX ModelProto with the project's own protobuf wire reader (no protobuf package). Decodes
/// what an inference graph needs — ModelProto ir_version (1), opset_import (8), producer_name (2),
/// graph (7); GraphProto node (1), name (2), initializer (5), input (11), output (12); NodeProto
/// input (1), output (2), name (3), op_type (4), attribute (5), domain (7); AttributeProto and
/// TensorProto as in onnx.proto — and skips the rest by wire type. Initializers may be in raw_data, the
/// typed fields, or an external-data file beside the model (read bounded); float16, bfloat16 and
/// float64 are converted to float32 with a note.
/// </summary>
internal static partial class OnnxReader
{
    /// <summary>The largest model file read: 2 GiB (protobuf's own limit).</summary>
    public const long MaxFileBytes = int.MaxValue;

    /// <summary>The most values one tensor may hold (2^28 floats is 1 GiB).</summary>
    public const long MaxTensorElements = 1L << 28;

    public static OnnxModelProto ReadFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"ONNX model not found: {path}", path);
        var bytes = BoundedFile.ReadAll(path, MaxFileBytes, "ONNX model", m => new OnnxFormatException(m));
        return Read(bytes, path, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>Decodes a whole model; <paramref name="source"/> names it in errors; external data is looked up in <paramref name="directory"/>.</summary>
    public static OnnxModelProto Read(byte[] bytes, string source, string? directory = null)
    {
        try { return new Decoder(bytes, source, directory).Model(); }
        catch (Exception e) when (e is OverflowException or ArgumentException or IndexOutOfRangeException or InvalidCastException)
        {
            // Every range is checked where it is read; this is the last guard, so no untyped exception leaves the reader.
            throw new OnnxFormatException($"{source}: the file is damaged ({e.Message}).", e);
        }
    }

    private sealed partial class Decoder(byte[] bytes, string source, string? directory)
    {
        private readonly List<string> _notes = [];

        private ProtobufReader At((int Start, int End) range, string where) => new(bytes, range.Start, range.End, source, where, m => new OnnxFormatException(m));

        public OnnxModelProto Model()
        {
            if (bytes.Length == 0) throw new OnnxFormatException($"{source}: the file is empty; expected an ONNX ModelProto.");
            long ir = 0;
            string producer = "";
            var opsets = new Dictionary<string, long>();
            (int, int)? graph = null;
            var r = At((0, bytes.Length), "ModelProto");
            while (r.Next(out int field, out int wire))
            {
                if (field == 1 && wire == 0) ir = (long)r.Varint();
                else if (field == 2 && wire == 2) producer = r.String();
                else if (field == 7 && wire == 2) graph = r.LengthDelimited();
                else if (field == 8 && wire == 2)
                {
                    var o = At(r.LengthDelimited(), "opset_import");
                    string domain = ""; long version = 0;
                    while (o.Next(out int f, out int w))
                    {
                        if (f == 1 && w == 2) domain = o.String();
                        else if (f == 2 && w == 0) version = (long)o.Varint();
                        else o.Skip(w);
                    }
                    opsets[domain] = version;
                }
                else r.Skip(wire);
            }
            if (graph is null) throw new OnnxFormatException($"{source}: no graph found; is this an ONNX model (ModelProto)?");
            if (ir < 3) throw new OnnxFormatException($"{source}: IR version {ir} is not supported (3 and later are).");
            return new OnnxModelProto(ir, opsets, producer, Graph(graph.Value), _notes);
        }

        private OnnxGraph Graph((int, int) range)
        {
            string name = "";
            var nodes = new List<OnnxNode>();
            var initializers = new Dictionary<string, OnnxTensor>();
            var inputs = new List<OnnxValueInfo>();
            var outputs = new List<OnnxValueInfo>();
            var r = At(range, "graph");
            while (r.Next(out int field, out int wire))
            {
                if (field == 1 && wire == 2) nodes.Add(Node(r.LengthDelimited(), nodes.Count));
                else if (field == 2 && wire == 2) name = r.String();
                else if (field == 5 && wire == 2)
                {
                    var t = Tensor(r.LengthDelimited(), $"initializer {initializers.Count}");
                    if (!initializers.TryAdd(t.Name, t)) throw new OnnxFormatException($"{source}: initializer '{t.Name}' is defined twice.");
                }
                else if (field == 11 && wire == 2) inputs.Add(ValueInfo(r.LengthDelimited(), "graph input"));
                else if (field == 12 && wire == 2) outputs.Add(ValueInfo(r.LengthDelimited(), "graph output"));
                else r.Skip(wire);
            }
            return new OnnxGraph(name, nodes, initializers, inputs, outputs);
        }

        private OnnxNode Node((int, int) range, int index)
        {
            var inputs = new List<string>();
            var outputs = new List<string>();
            string name = "", op = "", domain = "";
            var attributes = new Dictionary<string, OnnxAttribute>();
            var r = At(range, $"node {index}");
            while (r.Next(out int field, out int wire))
            {
                if (field == 1 && wire == 2) inputs.Add(r.String());
                else if (field == 2 && wire == 2) outputs.Add(r.String());
                else if (field == 3 && wire == 2) name = r.String();
                else if (field == 4 && wire == 2) op = r.String();
                else if (field == 7 && wire == 2) domain = r.String();
                else if (field == 5 && wire == 2)
                {
                    var a = Attribute(r.LengthDelimited(), $"node {index} ({op})");
                    attributes[a.Name] = a;
                }
                else r.Skip(wire);
            }
            if (op.Length == 0) throw new OnnxFormatException($"{source}: node {index} '{name}' has no op_type.");
            if (name.Length == 0) name = $"{op}_{index}";
            return new OnnxNode(name, op, domain, [.. inputs], [.. outputs], attributes);
        }

        private OnnxAttribute Attribute((int, int) range, string where)
        {
            string name = "", text = "";
            int type = 0;
            float f = 0; long i = 0;
            var floats = new List<float>();
            var ints = new List<long>();
            OnnxTensor? tensor = null;
            var r = At(range, where + " attribute");
            while (r.Next(out int field, out int wire))
            {
                switch (field)
                {
                    case 1 when wire == 2: name = r.String(); break;
                    case 20 when wire == 0: type = (int)r.Varint(); break;
                    case 2 when wire == 5: f = r.Fixed32AsFloat(); break;
                    case 3 when wire == 0: i = (long)r.Varint(); break;
                    case 4 when wire == 2: text = r.String(); break;
                    case 5 when wire == 2: tensor = Tensor(r.LengthDelimited(), $"{where} attribute '{name}'"); break;
                    case 7 when wire == 5: floats.Add(r.Fixed32AsFloat()); break;
                    case 7 when wire == 2:
                        {
                            var p = At(r.LengthDelimited(), where);
                            while (p.HasMore) floats.Add(p.Fixed32AsFloat());
                            break;
                        }
                    case 8 when wire == 0: ints.Add((long)r.Varint()); break;
                    case 8 when wire == 2:
                        {
                            var p = At(r.LengthDelimited(), where);
                            while (p.HasMore) ints.Add((long)p.Varint());
                            break;
                        }
                    default: r.Skip(wire); break;
                }
                if (floats.Count + ints.Count > 1 << 20) throw r.Error($"attribute '{name}' holds over a million values");
            }
            if (float.IsNaN(f) || floats.Any(float.IsNaN)) throw r.Error($"attribute '{name}' is NaN");
            return new OnnxAttribute(name, type, f, i, text, [.. floats], [.. ints], tensor);
        }

        private OnnxValueInfo ValueInfo((int, int) range, string where)
        {
            string name = "";
            var type = OnnxDataType.Undefined;
            var dims = new List<long>();
            var r = At(range, where);
            while (r.Next(out int field, out int wire))
            {
                if (field == 1 && wire == 2) name = r.String();
                else if (field == 2 && wire == 2)
                {
                    var t = At(r.LengthDelimited(), $"{where} '{name}' type");
                    while (t.Next(out int tf, out int tw))
                    {
                        if (tf != 1 || tw != 2) { t.Skip(tw); continue; }
                        var tensorType = At(t.LengthDelimited(), $"{where} '{name}' tensor type");
                        while (tensorType.Next(out int f, out int w))
                        {
                            if (f == 1 && w == 0) type = (OnnxDataType)(int)tensorType.Varint();
                            else if (f == 2 && w == 2)
                            {
                                var shape = At(tensorType.LengthDelimited(), $"{where} '{name}' shape");
                                while (shape.Next(out int sf, out int sw))
                                {
                                    if (sf != 1 || sw != 2) { shape.Skip(sw); continue; }
                                    var dim = At(shape.LengthDelimited(), $"{where} '{name}' dimension");
                                    long value = -1;
                                    while (dim.Next(out int df, out int dw))
                                    {
                                        if (df == 1 && dw == 0) value = (long)dim.Varint();
                                        else dim.Skip(dw);
                                    }
                                    dims.Add(value);
                                }
                            }
                            else tensorType.Skip(w);
                        }
                    }
                }
                else r.Skip(wire);
            }
            return new OnnxValueInfo(name, type, [.. dims]);
        }

        private OnnxTensor Tensor((int, int) range, string where)
        {
            var dims = new List<long>();
            var type = OnnxDataType.Undefined;
            string name = "";
            (int Start, int End)? raw = null;
            var floats = new List<float>();
            var doubles = new List<double>();
            var integers = new List<long>();
            var external = new Dictionary<string, string>();
            bool isExternal = false;
            var r = At(range, where);
            while (r.Next(out int field, out int wire))
            {
                switch (field)
                {
                    case 1 when wire == 0: dims.Add((long)r.Varint()); break;
                    case 1 when wire == 2:
                        {
                            var p = At(r.LengthDelimited(), where + " dims");
                            while (p.HasMore) dims.Add((long)p.Varint());
                            break;
                        }
                    case 2 when wire == 0: type = (OnnxDataType)(int)r.Varint(); break;
                    case 8 when wire == 2: name = r.String(); break;
                    case 9 when wire == 2: raw = r.LengthDelimited(); break;
                    case 4 when wire == 5: floats.Add(r.Fixed32AsFloat()); break;
                    case 4 when wire == 2:
                        {
                            var p = At(r.LengthDelimited(), where);
                            while (p.HasMore) floats.Add(p.Fixed32AsFloat());
                            break;
                        }
                    case 10 when wire == 1: doubles.Add(r.Fixed64AsDouble()); break;
                    case 10 when wire == 2:
                        {
                            var p = At(r.LengthDelimited(), where);
                            while (p.HasMore) doubles.Add(p.Fixed64AsDouble());
                            break;
                        }
                    case 5 or 7 when wire == 0: integers.Add((long)r.Varint()); break;
                    case 5 or 7 when wire == 2:
                        {
                            var p = At(r.LengthDelimited(), where);
                            while (p.HasMore) integers.Add((long)p.Varint());
                            break;
                        }
                    case 13 when wire == 2:
                        {
                            var e = At(r.LengthDelimited(), where + " external_data");
                            string key = "", value = "";
                            while (e.Next(out int f, out int w))
                            {
                                if (f == 1 && w == 2) key = e.String();
                                else if (f == 2 && w == 2) value = e.String();
                                else e.Skip(w);
                            }
                            external[key] = value;
                            break;
                        }
                    case 14 when wire == 0: isExternal = r.Varint() == 1; break;
                    default: r.Skip(wire); break;
                }
            }
            string what = $"{where} '{name}'";
            if (dims.Count > 8) throw new OnnxFormatException($"{source}: {what}: {dims.Count} dimensions (at most 8).");
            long count = 1;
            foreach (var d in dims)
            {
                if (d < 0 || d > MaxTensorElements) throw new OnnxFormatException($"{source}: {what}: dimension {d} is out of range.");
                count *= d;
                if (count > MaxTensorElements) throw new OnnxFormatException($"{source}: {what}: {count:N0}+ values is more than the {MaxTensorElements:N0} one tensor may hold.");
            }
            byte[]? rawBytes = null;
            int rawStart = 0, rawLength = 0;
            if (isExternal) (rawBytes, rawStart, rawLength) = (ReadExternal(external, what, count, type), 0, 0);
            else if (raw is { } rr) (rawBytes, rawStart, rawLength) = (bytes, rr.Start, rr.End - rr.Start);
            if (rawBytes is not null && isExternal) rawLength = rawBytes.Length;
            var tensor = Decode(name, type, [.. dims], count, rawBytes, rawStart, rawLength, floats, doubles, integers, what);
            RequireFinite(tensor, what);
            return tensor;
        }

        private OnnxTensor Decode(string name, OnnxDataType type, long[] dims, long count, byte[]? raw, int start, int length,
            List<float> floats, List<double> doubles, List<long> integers, string what)
        {
            int size = ElementSize(type, what);
            if (raw is not null)
            {
                if (length != count * size)
                    throw new OnnxFormatException($"{source}: {what}: {length} bytes of data for {count} values of {type} ({count * size} bytes expected).");
                var span = raw.AsSpan(start, length);
                switch (type)
                {
                    case OnnxDataType.Float: return new(name, type, dims, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(span).ToArray(), null);
                    case OnnxDataType.Double:
                        Note($"{what}: float64 values converted to float32");
                        return new(name, type, dims, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(span).ToArray().Select(v => (float)v).ToArray(), null);
                    case OnnxDataType.Float16:
                        Note($"{what}: float16 values converted to float32");
                        return new(name, type, dims, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(span).ToArray().Select(v => (float)v).ToArray(), null);
                    case OnnxDataType.BFloat16:
                        Note($"{what}: bfloat16 values converted to float32");
                        return new(name, type, dims, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(span).ToArray().Select(v => BitConverter.Int32BitsToSingle(v << 16)).ToArray(), null);
                    default:
                        var values = new long[count];
                        for (int i = 0; i < count; i++)
                        {
                            var b = span.Slice(i * size, size);
                            values[i] = type switch
                            {
                                OnnxDataType.Int64 => BitConverter.ToInt64(b),
                                OnnxDataType.UInt64 => (long)BitConverter.ToUInt64(b),
                                OnnxDataType.Int32 => BitConverter.ToInt32(b),
                                OnnxDataType.UInt32 => BitConverter.ToUInt32(b),
                                OnnxDataType.Int16 => BitConverter.ToInt16(b),
                                OnnxDataType.UInt16 => BitConverter.ToUInt16(b),
                                OnnxDataType.Int8 => (sbyte)b[0],
                                _ => b[0],
                            };
                        }
                        return new(name, type, dims, null, values);
                }
            }
            // Typed fields: float_data, double_data, or int32_data/int64_data (which also carry float16 bits).
            if (type == OnnxDataType.Float) return Checked(new(name, type, dims, [.. floats], null), floats.Count);
            if (type == OnnxDataType.Double) return Checked(new(name, type, dims, doubles.Select(v => (float)v).ToArray(), null), doubles.Count);
            if (type == OnnxDataType.Float16)
                return Checked(new(name, type, dims, integers.Select(v => (float)BitConverter.UInt16BitsToHalf((ushort)v)).ToArray(), null), integers.Count);
            if (type == OnnxDataType.BFloat16)
                return Checked(new(name, type, dims, integers.Select(v => BitConverter.Int32BitsToSingle((int)v << 16)).ToArray(), null), integers.Count);
            return Checked(new(name, type, dims, null, [.. integers]), integers.Count);

            OnnxTensor Checked(OnnxTensor t, int found) => found == count ? t
                : throw new OnnxFormatException($"{source}: {what}: {found} values for the {count} its shape [{string.Join(", ", dims)}] holds.");
        }

        /// <summary>
        /// A NaN anywhere, or an infinity in a tensor of weights (more than one value), is a damaged file:
        /// it would make every output NaN without a word. A single infinity is a legitimate bound (Clip's max).
        /// </summary>
        private void RequireFinite(OnnxTensor tensor, string what)
        {
            if (tensor.Floats is not { } values) return;
            for (int i = 0; i < values.Length; i++)
                if (float.IsNaN(values[i]) || values.Length > 1 && float.IsInfinity(values[i]))
                    throw new OnnxFormatException($"{source}: {what}: value {i} is {values[i].ToString(System.Globalization.CultureInfo.InvariantCulture)}; weights must be finite numbers.");
        }

        private void Note(string note)
        {
            if (_notes.Count < 20) _notes.Add($"{source}: {note}.");
        }
    }
}
