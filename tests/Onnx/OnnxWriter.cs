using System.Text;

namespace NativeIg.Tests;

/// <summary>
/// Writes small ONNX models for the importer's tests: the protobuf wire format by hand (the fields
/// onnx.proto gives ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto).
/// </summary>
internal sealed class OnnxWriter
{
    private readonly List<byte[]> _nodes = [], _initializers = [], _inputs = [], _outputs = [];
    private int _nodeCount;

    public long IrVersion { get; init; } = 7;
    public long Opset { get; init; } = 13;

    /// <summary>
    /// The tests' smallest classifier: image x [1, 3, size, size] → 1×1 convolution to 4 channels → global
    /// average pool → Flatten into <paramref name="flattened"/>; the graph output is y [1, 4] (more nodes may follow).
    /// </summary>
    public static OnnxWriter TinyClassifier(int size = 8, string flattened = "y") => new OnnxWriter()
        .Input("x", [1, 3, size, size]).Output("y", [1, 4])
        .Initializer("w", [4, 3, 1, 1], TestUtil.Random(12, 1))
        .Node("Conv", ["x", "w"], ["c"], ("kernel_shape", new long[] { 1, 1 }))
        .Node("GlobalAveragePool", ["c"], ["g"])
        .Node("Flatten", ["g"], [flattened]);

    public OnnxWriter Input(string name, long[] dims, int elementType = 1) { _inputs.Add(ValueInfo(name, elementType, dims)); return this; }
    public OnnxWriter Output(string name, long[] dims) { _outputs.Add(ValueInfo(name, 1, dims)); return this; }

    public OnnxWriter Initializer(string name, long[] dims, float[] values)
    {
        var t = new Proto();
        foreach (var d in dims) t.Varint(1, (ulong)d);
        t.Varint(2, 1);
        t.String(8, name);
        t.Bytes(9, values.SelectMany(BitConverter.GetBytes).ToArray());
        _initializers.Add(t.ToArray());
        return this;
    }

    public OnnxWriter Int64Initializer(string name, long[] values)
    {
        var t = new Proto();
        t.Varint(1, (ulong)values.Length);
        t.Varint(2, 7);
        t.String(8, name);
        t.Bytes(9, values.SelectMany(BitConverter.GetBytes).ToArray());
        _initializers.Add(t.ToArray());
        return this;
    }

    /// <summary>A tensor of any data type from its raw little-endian bytes (float16, float64, …).</summary>
    public OnnxWriter RawInitializer(string name, long[] dims, int dataType, byte[] bytes)
    {
        var t = new Proto();
        foreach (var d in dims) t.Varint(1, (ulong)d);
        t.Varint(2, (ulong)dataType);
        t.String(8, name);
        t.Bytes(9, bytes);
        _initializers.Add(t.ToArray());
        return this;
    }

    /// <summary>A scalar int64 (rank 0), as PyTorch exports write Gather's index.</summary>
    public OnnxWriter Int64Scalar(string name, long value)
    {
        var t = new Proto();
        t.Varint(2, 7);
        t.String(8, name);
        t.Bytes(9, BitConverter.GetBytes(value));
        _initializers.Add(t.ToArray());
        return this;
    }

    /// <summary>A tensor stored in an external file: location, offset, length.</summary>
    public OnnxWriter ExternalInitializer(string name, long[] dims, string location, long length)
    {
        var t = new Proto();
        foreach (var d in dims) t.Varint(1, (ulong)d);
        t.Varint(2, 1);
        t.String(8, name);
        foreach (var (k, v) in new[] { ("location", location), ("offset", "0"), ("length", length.ToString()) })
        {
            var e = new Proto();
            e.String(1, k);
            e.String(2, v);
            t.Message(13, e);
        }
        t.Varint(14, 1);
        _initializers.Add(t.ToArray());
        return this;
    }

    /// <summary>A node; attributes are (name, value) with value an int, long, float, string, long[] or float[].</summary>
    public OnnxWriter Node(string op, string[] inputs, string[] outputs, params (string Name, object Value)[] attributes)
    {
        var n = new Proto();
        foreach (var i in inputs) n.String(1, i);
        foreach (var o in outputs) n.String(2, o);
        n.String(3, $"{op.ToLowerInvariant()}_{_nodeCount++}");
        n.String(4, op);
        foreach (var (name, value) in attributes)
        {
            var a = new Proto();
            a.String(1, name);
            switch (value)
            {
                case int or long: a.Varint(20, 2); a.Varint(3, (ulong)Convert.ToInt64(value)); break;
                case float f: a.Varint(20, 1); a.Fixed32(2, f); break;
                case string s: a.Varint(20, 3); a.String(4, s); break;
                case long[] ints: a.Varint(20, 7); a.Bytes(8, ints.SelectMany(i => Proto.VarintBytes((ulong)i)).ToArray()); break;
                case float[] floats: a.Varint(20, 6); a.Bytes(7, floats.SelectMany(BitConverter.GetBytes).ToArray()); break;
                default: throw new ArgumentException($"attribute {name}: {value.GetType()}");
            }
            n.Message(5, a);
        }
        _nodes.Add(n.ToArray());
        return this;
    }

    public byte[] ToArray()
    {
        var g = new Proto();
        foreach (var n in _nodes) g.Bytes(1, n);
        g.String(2, "test");
        foreach (var i in _initializers) g.Bytes(5, i);
        foreach (var i in _inputs) g.Bytes(11, i);
        foreach (var o in _outputs) g.Bytes(12, o);
        var m = new Proto();
        m.Varint(1, (ulong)IrVersion);
        m.String(2, "nativeig-tests");
        m.Message(7, g);
        var opset = new Proto();
        opset.String(1, "");
        opset.Varint(2, (ulong)Opset);
        m.Message(8, opset);
        return m.ToArray();
    }

    public string Save(string directory, string name = "model.onnx")
    {
        var path = Path.Combine(directory, name);
        File.WriteAllBytes(path, ToArray());
        return path;
    }

    private static byte[] ValueInfo(string name, int elementType, long[] dims)
    {
        var shape = new Proto();
        foreach (var d in dims)
        {
            var dim = new Proto();
            if (d >= 0) dim.Varint(1, (ulong)d); else dim.String(2, "N");
            shape.Message(1, dim);
        }
        var tensor = new Proto();
        tensor.Varint(1, (ulong)elementType);
        tensor.Message(2, shape);
        var type = new Proto();
        type.Message(1, tensor);
        var v = new Proto();
        v.String(1, name);
        v.Message(2, type);
        return v.ToArray();
    }

    private sealed class Proto
    {
        private readonly MemoryStream _bytes = new();

        public static byte[] VarintBytes(ulong v)
        {
            var b = new List<byte>();
            while (v >= 0x80) { b.Add((byte)(v | 0x80)); v >>= 7; }
            b.Add((byte)v);
            return [.. b];
        }

        private void Key(int field, int wire) => _bytes.Write(VarintBytes((ulong)(field << 3 | wire)));
        public void Varint(int field, ulong v) { Key(field, 0); _bytes.Write(VarintBytes(v)); }
        public void Fixed32(int field, float v) { Key(field, 5); _bytes.Write(BitConverter.GetBytes(v)); }
        public void Bytes(int field, byte[] v) { Key(field, 2); _bytes.Write(VarintBytes((ulong)v.Length)); _bytes.Write(v); }
        public void String(int field, string v) => Bytes(field, Encoding.UTF8.GetBytes(v));
        public void Message(int field, Proto m) => Bytes(field, m.ToArray());
        public byte[] ToArray() => _bytes.ToArray();
    }
}
