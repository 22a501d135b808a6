namespace NativeIg.Tests;

/// <summary>Small NetParameter files written with the protobuf wire format (the fuzz seeds).</summary>
internal static class CaffeWriter
{
    public static byte[] Modern() => Message(
        Field(100, Message(Field(1, "conv"u8.ToArray()), Field(2, "Convolution"u8.ToArray()),
            Field(7, Blob(shape: [2, 1, 3, 3])), Field(7, Blob(shape: [2])))),
        Field(100, Message(Field(1, "relu"u8.ToArray()), Field(2, "ReLU"u8.ToArray()))));

    public static byte[] Legacy() => Message(
        Field(2, Message(Field(4, "fc"u8.ToArray()), Varint(5, 14),
            Field(6, Message(Varint(1, 1), Varint(2, 1), Varint(3, 2), Varint(4, 3), Field(5, Floats(6)))))));

    private static byte[] Blob(int[] shape)
    {
        var dims = new List<byte>();
        foreach (var d in shape) dims.AddRange(VarintBytes((ulong)d));
        return Message(Field(7, Message(Field(1, dims.ToArray()))), Field(5, Floats(shape.Aggregate(1, (a, d) => a * d))));
    }

    private static byte[] Floats(int n) => Enumerable.Range(0, n).SelectMany(i => BitConverter.GetBytes(i * 0.25f - 1f)).ToArray();

    private static byte[] Message(params byte[][] fields) => fields.SelectMany(f => f).ToArray();

    private static byte[] Field(int number, byte[] payload) => [.. VarintBytes((ulong)(number << 3 | 2)), .. VarintBytes((ulong)payload.Length), .. payload];

    private static byte[] Varint(int number, ulong value) => [.. VarintBytes((ulong)(number << 3)), .. VarintBytes(value)];

    private static byte[] VarintBytes(ulong v)
    {
        var b = new List<byte>();
        do { byte x = (byte)(v & 0x7F); v >>= 7; b.Add(v != 0 ? (byte)(x | 0x80) : x); } while (v != 0);
        return b.ToArray();
    }
}
