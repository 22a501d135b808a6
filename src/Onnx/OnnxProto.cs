namespace NativeIg.Onnx;

/// <summary>Thrown for a malformed ONNX file or graph; the message names the file and, where there is one, the node.</summary>
public sealed class OnnxFormatException : Exception
{
    /// <summary>With a default message.</summary>
    public OnnxFormatException() { }

    /// <summary>With <paramref name="message"/>.</summary>
    public OnnxFormatException(string message) : base(message) { }

    /// <summary>With <paramref name="message"/> and the exception that caused it.</summary>
    public OnnxFormatException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>ONNX TensorProto data types the reader knows (onnx.proto's TensorProto.DataType).</summary>
internal enum OnnxDataType
{
    Undefined = 0, Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5, Int32 = 6, Int64 = 7, String = 8, Bool = 9,
    Float16 = 10, Double = 11, UInt32 = 12, UInt64 = 13, BFloat16 = 16,
}

/// <summary>
/// A constant tensor of the graph (an initializer or a Constant's value): float types are converted to
/// float32 (<see cref="Floats"/>), integer types kept as int64 (<see cref="Integers"/>, shapes and axes).
/// </summary>
internal sealed record OnnxTensor(string Name, OnnxDataType DataType, long[] Dims, float[]? Floats, long[]? Integers)
{
    public long ElementCount => Dims.Aggregate(1L, (a, d) => a * d);
}

/// <summary>One node attribute; only the field its type uses is meaningful.</summary>
internal sealed record OnnxAttribute(string Name, int Type, float Float, long Int, string? String, float[] Floats, long[] Ints, OnnxTensor? Tensor);

/// <summary>One graph node: its op, its input and output value names (an empty input name is an omitted optional input), and attributes.</summary>
internal sealed record OnnxNode(string Name, string OpType, string Domain, string[] Inputs, string[] Outputs, IReadOnlyDictionary<string, OnnxAttribute> Attributes)
{
    public long Int(string name, long fallback) => Attributes.TryGetValue(name, out var a) ? a.Int : fallback;
    public float Float(string name, float fallback) => Attributes.TryGetValue(name, out var a) ? a.Float : fallback;
    public string? String(string name) => Attributes.TryGetValue(name, out var a) ? a.String : null;
    public long[]? Ints(string name) => Attributes.TryGetValue(name, out var a) ? a.Ints : null;

    public override string ToString() => $"node '{Name}' ({OpType})";
}

/// <summary>A graph input or output: its element type and shape (−1 for a symbolic or unknown dimension).</summary>
internal sealed record OnnxValueInfo(string Name, OnnxDataType ElementType, long[] Dims);

/// <summary>A model's main graph.</summary>
internal sealed record OnnxGraph(string Name, IReadOnlyList<OnnxNode> Nodes, IReadOnlyDictionary<string, OnnxTensor> Initializers,
    IReadOnlyList<OnnxValueInfo> Inputs, IReadOnlyList<OnnxValueInfo> Outputs);

/// <summary>An ONNX ModelProto as read: IR version, operator sets, producer, the graph, and notes on conversions made while reading.</summary>
internal sealed record OnnxModelProto(long IrVersion, IReadOnlyDictionary<string, long> Opsets, string Producer, OnnxGraph Graph, IReadOnlyList<string> Notes)
{
    /// <summary>The default-domain ("" or "ai.onnx") opset version.</summary>
    public long Opset => Opsets.TryGetValue("", out var v) ? v : Opsets.TryGetValue("ai.onnx", out v) ? v : 0;
}
