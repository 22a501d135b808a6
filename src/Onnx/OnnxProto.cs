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
    // ONNX's AttributeProto.AttributeType values; a reader must not take an INT epsilon as a float 0.
    private const int FloatType = 1, IntType = 2, StringType = 3, IntsType = 7;

    public long Int(string name, long fallback) => Typed(name, IntType) is { } a ? a.Int : fallback;
    public float Float(string name, float fallback) => Typed(name, FloatType) is { } a ? a.Float : fallback;
    public string? String(string name) => Typed(name, StringType)?.String;
    public long[]? Ints(string name) => Typed(name, IntsType)?.Ints;

    /// <summary>The attribute, checked to be of the type the op defines for it (type 0, unset, is taken as written by old exporters).</summary>
    private OnnxAttribute? Typed(string name, int type)
    {
        if (!Attributes.TryGetValue(name, out var a)) return null;
        if (a.Type != 0 && a.Type != type)
            throw new OnnxFormatException($"{this}: attribute '{name}' is of type {TypeName(a.Type)}; the operator defines it as {TypeName(type)}.");
        return a;
    }

    private static string TypeName(int type) => type switch
    {
        1 => "FLOAT", 2 => "INT", 3 => "STRING", 4 => "TENSOR", 5 => "GRAPH", 6 => "FLOATS", 7 => "INTS", 8 => "STRINGS",
        _ => $"#{type}",
    };

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
