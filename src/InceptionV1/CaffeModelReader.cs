using NativeIg.Tensors.IO;

namespace NativeIg.InceptionV1;

/// <summary>A weight blob as stored by Caffe: its shape (legacy num/channels/height/width folded in) and values.</summary>
internal sealed record CaffeBlob(int[] Shape, float[] Data);

/// <summary>One layer of a Caffe NetParameter: name, type, and its blobs (weights, then bias).</summary>
internal sealed record CaffeLayer(string Name, string Type, IReadOnlyList<CaffeBlob> Blobs);

/// <summary>Thrown for any malformed or mismatched weights file; the message names the file and the place.</summary>
public sealed class WeightsFormatException : Exception
{
    /// <summary>With a default message.</summary>
    public WeightsFormatException() { }

    /// <summary>With <paramref name="message"/>.</summary>
    public WeightsFormatException(string message) : base(message) { }

    /// <summary>With <paramref name="message"/> and the exception that caused it.</summary>
    public WeightsFormatException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>
/// Reads Caffe's NetParameter protobuf wire format without a protobuf package. Only the fields the
/// weights need are decoded — NetParameter.layer (100) and the legacy layers (2); LayerParameter
/// name (1), type (2), blobs (7); V1LayerParameter name (4), type enum (5), blobs (6); BlobProto
/// num/channels/height/width (1–4), data (5, packed or not), shape (7), double_data (8). Everything
/// else is skipped by wire type, so unknown fields and auxiliary layers cost nothing.
/// </summary>
internal static class CaffeModelReader
{
    public static IReadOnlyList<CaffeLayer> ReadFile(string path)
    {
        if (!File.Exists(path) && !Directory.Exists(path)) throw new FileNotFoundException($"Weights file not found: {path}", path);
        return Read(BoundedFile.ReadAll(path, MaxFileBytes, "caffemodel", m => new WeightsFormatException(m)), path);
    }

    /// <summary>The largest weights file read: 1 GiB (GoogLeNet's is 53 MB).</summary>
    public const long MaxFileBytes = 1L << 30;

    /// <summary>
    /// Decodes a whole NetParameter; <paramref name="source"/> names the file in errors. Every failure is
    /// a <see cref="WeightsFormatException"/> saying where in the file it happened.
    /// </summary>
    public static IReadOnlyList<CaffeLayer> Read(byte[] bytes, string source)
    {
        try { return ReadChecked(bytes, source); }
        catch (Exception e) when (e is OverflowException or ArgumentException or IndexOutOfRangeException or InvalidCastException)
        {
            // Every range is checked where it is read; this is the last guard, so no untyped exception leaves the reader.
            throw new WeightsFormatException($"{source}: the file is damaged ({e.Message}).");
        }
    }

    private static IReadOnlyList<CaffeLayer> ReadChecked(byte[] bytes, string source)
    {
        if (bytes.Length == 0) throw new WeightsFormatException($"{source}: the file is empty; expected a Caffe NetParameter.");
        var layers = new List<CaffeLayer>();
        var reader = ProtoReader(bytes, 0, bytes.Length, source, "NetParameter");
        while (reader.Next(out int field, out int wire))
        {
            if ((field == 100 || field == 2) && wire == 2)
            {
                var (start, end) = reader.LengthDelimited();
                layers.Add(ReadLayer(bytes, start, end, source, legacy: field == 2, index: layers.Count));
            }
            else reader.Skip(wire);
        }
        if (layers.Count == 0) throw new WeightsFormatException($"{source}: no layers found; is this a Caffe .caffemodel (NetParameter) file?");
        return layers;
    }

    private static CaffeLayer ReadLayer(byte[] bytes, int start, int end, string source, bool legacy, int index)
    {
        string name = $"#{index}", type = "";
        var blobs = new List<CaffeBlob>();
        var blobRanges = new List<(int, int)>();
        var reader = ProtoReader(bytes, start, end, source, $"layer {index}");
        while (reader.Next(out int field, out int wire))
        {
            int nameField = legacy ? 4 : 1, typeField = legacy ? 5 : 2, blobsField = legacy ? 6 : 7;
            if (field == nameField && wire == 2) name = reader.String();
            else if (field == typeField && wire == 2 && !legacy) type = reader.String();
            else if (field == typeField && wire == 0 && legacy) type = $"V1:{reader.Varint()}";
            else if (field == blobsField && wire == 2) blobRanges.Add(reader.LengthDelimited());
            else reader.Skip(wire);
        }
        foreach (var (bs, be) in blobRanges) blobs.Add(ReadBlob(bytes, bs, be, source, name, blobs.Count));
        return new CaffeLayer(name, type, blobs);
    }

    private static CaffeBlob ReadBlob(byte[] bytes, int start, int end, string source, string layer, int blobIndex)
    {
        string where = $"layer '{layer}' blob {blobIndex}";
        int[] legacyDims = [-1, -1, -1, -1];
        List<long>? shape = null;
        var values = new List<float>();
        float[]? packed = null;
        var reader = ProtoReader(bytes, start, end, source, where);
        while (reader.Next(out int field, out int wire))
        {
            switch (field)
            {
                case >= 1 and <= 4 when wire == 0:
                    {
                        ulong dim = reader.Varint();
                        if (dim > int.MaxValue) throw new WeightsFormatException($"{source}: {where}: legacy dimension {field} is {dim}, out of range.");
                        legacyDims[field - 1] = (int)dim;
                        break;
                    }
                case 5 when wire == 2:
                    {
                        var (s, e) = reader.LengthDelimited();
                        if ((e - s) % 4 != 0) throw new WeightsFormatException($"{source}: {where}: packed float data of {e - s} bytes is not a multiple of 4.");
                        var chunk = new float[(e - s) / 4];
                        Buffer.BlockCopy(bytes, s, chunk, 0, e - s);
                        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Big-endian hosts are not supported.");
                        packed = packed is null ? chunk : [.. packed, .. chunk];
                        break;
                    }
                case 5 when wire == 5:
                    values.Add(reader.Fixed32AsFloat());
                    break;
                case 8 when wire == 2:
                    {
                        var (s, e) = reader.LengthDelimited();
                        if ((e - s) % 8 != 0) throw new WeightsFormatException($"{source}: {where}: packed double data of {e - s} bytes is not a multiple of 8.");
                        for (int i = s; i < e; i += 8) values.Add((float)BitConverter.ToDouble(bytes, i));
                        break;
                    }
                case 7 when wire == 2:
                    {
                        var (s, e) = reader.LengthDelimited();
                        shape = ReadShape(bytes, s, e, source, where);
                        break;
                    }
                default:
                    reader.Skip(wire);
                    break;
            }
        }
        float[] data = packed is null ? values.ToArray() : values.Count == 0 ? packed : [.. packed, .. values];
        int[] dims;
        if (shape is not null) dims = shape.Select(d => (int)d).ToArray(); // each checked ≤ int.MaxValue in ReadShape
        else if (legacyDims.Any(d => d >= 0)) dims = legacyDims.Select(d => d < 0 ? 1 : d).ToArray();
        else dims = [data.Length];
        long expected = 1;
        foreach (var d in dims)
            if ((expected *= d) > int.MaxValue)
                throw new WeightsFormatException($"{source}: {where}: shape [{string.Join(", ", dims)}] has more values than any blob can hold.");
        if (expected != data.Length)
            throw new WeightsFormatException($"{source}: {where}: shape [{string.Join(", ", dims)}] needs {expected} values but {data.Length} are stored.");
        return new CaffeBlob(dims, data);
    }

    private static List<long> ReadShape(byte[] bytes, int start, int end, string source, string where)
    {
        var dims = new List<long>();
        var reader = ProtoReader(bytes, start, end, source, where + " shape");
        while (reader.Next(out int field, out int wire))
        {
            if (field == 1 && wire == 0) dims.Add(reader.Varint() is var d && d > int.MaxValue ? -1 : (long)d);
            else if (field == 1 && wire == 2)
            {
                var (s, e) = reader.LengthDelimited();
                var inner = ProtoReader(bytes, s, e, source, where + " shape");
                while (inner.HasMore) dims.Add(inner.Varint() is var d && d > int.MaxValue ? -1 : (long)d);
            }
            else reader.Skip(wire);
        }
        if (dims.Count > 32) throw new WeightsFormatException($"{source}: {where}: {dims.Count} dimensions (at most 32).");
        foreach (var d in dims)
            if (d < 0 || d > int.MaxValue) throw new WeightsFormatException($"{source}: {where}: a dimension is out of range (0…{int.MaxValue}).");
        return dims;
    }

    private static ProtobufReader ProtoReader(byte[] bytes, int start, int end, string source, string where) =>
        new(bytes, start, end, source, where, message => new WeightsFormatException(message));
}
