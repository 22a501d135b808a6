using NativeIg.Tensors;

namespace NativeIg.Tensors.IO;

/// <summary>NumPy .npy files (version 1/2 headers, little-endian float32 or float64, C order).</summary>
public static class Npy
{
    /// <summary>A float32 or float64 array as a float32 tensor of its shape (see <see cref="ReadDoubles(string)"/> for the checks).</summary>
    public static Tensor Read(string path)
    {
        var bytes = BoundedFile.ReadAll(path, 16 + MaxElements * 8 + (1 << 20), ".npy", m => new FormatException(m));
        var (shape, dataStart, itemSize) = Layout(bytes, path);
        var t = Tensor.Uninitialized(shape);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++)
            s[i] = itemSize == 4 ? BitConverter.ToSingle(bytes, dataStart + i * 4) : (float)BitConverter.ToDouble(bytes, dataStart + i * 8);
        return t;
    }

    /// <summary>The largest array <see cref="Read"/> accepts: 2^28 values (1 GiB as float32).</summary>
    public const long MaxElements = 1L << 28;

    /// <summary>
    /// Reads any float32/float64 array as doubles (exact for both). Every header field is checked —
    /// magic, version, header length, a Python dict literal with 'descr' (&lt;f4 or &lt;f8), 'fortran_order'
    /// False and a 'shape' tuple of positive integers — and the data must be exactly what the shape
    /// needs; every error is a <see cref="FormatException"/> naming the file.
    /// </summary>
    public static (int[] Shape, double[] Data) ReadDoubles(string path)
    {
        return Parse(BoundedFile.ReadAll(path, 16 + MaxElements * 8 + (1 << 20), ".npy", m => new FormatException(m)), path);
    }

    /// <summary><see cref="ReadDoubles(string)"/> on bytes; <paramref name="source"/> names them in errors.</summary>
    public static (int[] Shape, double[] Data) Parse(byte[] bytes, string source)
    {
        var (shape, dataStart, itemSize) = Layout(bytes, source);
        var data = new double[Tensor.ElementCount(shape)];
        for (int i = 0; i < data.Length; i++)
            data[i] = itemSize == 4 ? BitConverter.ToSingle(bytes, dataStart + i * 4) : BitConverter.ToDouble(bytes, dataStart + i * 8);
        return (shape, data);
    }

    /// <summary>The checked header: shape, where the data starts, and 4 or 8 bytes per value.</summary>
    private static (int[] Shape, int DataStart, int ItemSize) Layout(byte[] bytes, string source)
    {
        if (bytes.Length < 10 || bytes[0] != 0x93 || !bytes.AsSpan(1, 5).SequenceEqual("NUMPY"u8))
            throw new FormatException($"{source}: not a .npy file (missing the \\x93NUMPY magic).");
        int major = bytes[6];
        if (major is not (1 or 2 or 3)) throw new FormatException($"{source}: .npy format version {major}.{bytes[7]} is not supported (1, 2 or 3 expected).");
        int headerStart = major == 1 ? 10 : 12;
        if (bytes.Length < headerStart) throw new FormatException($"{source}: the .npy file ends inside its preamble.");
        long headerLength = major == 1 ? BitConverter.ToUInt16(bytes, 8) : BitConverter.ToUInt32(bytes, 8);
        if (headerLength > 1 << 20 || headerStart + headerLength > bytes.Length)
            throw new FormatException($"{source}: the .npy header length {headerLength} runs past the end of the file ({bytes.Length} bytes).");
        var header = System.Text.Encoding.Latin1.GetString(bytes, headerStart, (int)headerLength);
        var fields = ParseHeader(header, source);
        if (!fields.TryGetValue("descr", out var descr) || descr is not string dtype)
            throw new FormatException($"{source}: the .npy header has no 'descr' string.");
        if (!fields.TryGetValue("fortran_order", out var order) || order is not bool fortran)
            throw new FormatException($"{source}: the .npy header has no 'fortran_order' True/False.");
        if (fortran) throw new FormatException($"{source}: Fortran-order arrays are not supported (save with C order).");
        if (!fields.TryGetValue("shape", out var shapeValue) || shapeValue is not long[] dims)
            throw new FormatException($"{source}: the .npy header has no 'shape' tuple.");
        if (dims.Length == 0) throw new FormatException($"{source}: a 0-dimensional (scalar) .npy array is not an image or tensor.");
        long count = 1;
        foreach (var d in dims)
        {
            if (d < 1) throw new FormatException($"{source}: the .npy shape ({string.Join(", ", dims)}) has a dimension below 1.");
            if (d > MaxElements || (count *= d) > MaxElements)
                throw new FormatException($"{source}: the .npy shape ({string.Join(", ", dims)}) is over the limit of {MaxElements:N0} values.");
        }
        int itemSize = dtype switch
        {
            "<f4" => 4,
            "<f8" => 8,
            _ => throw new FormatException($"{source}: dtype '{ImageLoader.Printable(dtype)}' is not supported (<f4 or <f8 expected)."),
        };
        long dataStart = headerStart + headerLength;
        if (bytes.Length - dataStart != count * itemSize)
            throw new FormatException($"{source}: shape ({string.Join(", ", dims)}) needs {count * itemSize} data bytes, the file has {bytes.Length - dataStart}.");
        return (dims.Select(d => (int)d).ToArray(), (int)dataStart, itemSize);
    }

    /// <summary>
    /// The header's Python dict literal: {'key': value, ...} with string, True/False and tuple-of-int
    /// values (what numpy writes); anything else is an error that says where.
    /// </summary>
    private static Dictionary<string, object> ParseHeader(string header, string source)
    {
        var fields = new Dictionary<string, object>();
        int i = 0;
        FormatException Bad(string what) => new($"{source}: the .npy header is not a valid dict literal ({what} at character {i}).");
        void Space() { while (i < header.Length && header[i] is ' ' or '\n' or '\t' or '\r') i++; }
        bool Take(char c) { Space(); if (i < header.Length && header[i] == c) { i++; return true; } return false; }
        string QuotedString()
        {
            Space();
            if (i >= header.Length || header[i] is not ('\'' or '"')) throw Bad("a quoted string expected");
            char quote = header[i++];
            int close = header.IndexOf(quote, i);
            if (close < 0) throw Bad("an unterminated string");
            var text = header[i..close];
            i = close + 1;
            return text;
        }
        if (!Take('{')) throw Bad("'{' expected");
        while (!Take('}'))
        {
            string key = QuotedString();
            if (!Take(':')) throw Bad("':' expected");
            Space();
            object value;
            if (i < header.Length && header[i] is '\'' or '"') value = QuotedString();
            else if (string.CompareOrdinal(header, i, "True", 0, 4) == 0) { value = true; i += 4; }
            else if (string.CompareOrdinal(header, i, "False", 0, 5) == 0) { value = false; i += 5; }
            else if (Take('('))
            {
                var dims = new List<long>();
                while (!Take(')'))
                {
                    Space();
                    int start = i;
                    if (i < header.Length && header[i] == '-') i++;
                    while (i < header.Length && char.IsAsciiDigit(header[i])) i++;
                    if (start == i || !long.TryParse(header.AsSpan(start, i - start), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long d))
                        throw Bad("an integer dimension expected");
                    dims.Add(d);
                    if (dims.Count > 32) throw Bad("more than 32 dimensions");
                    Space();
                    if (i < header.Length && header[i] == ',') i++;
                    else if (i >= header.Length || header[i] != ')') throw Bad("',' or ')' expected");
                }
                value = dims.ToArray();
            }
            else throw Bad("a string, True, False or a (tuple) expected");
            if (!fields.TryAdd(key, value)) throw Bad($"the key '{key}' twice");
            if (!Take(',')) { if (!Take('}')) throw Bad("',' or '}' expected"); break; }
        }
        Space();
        if (i != header.Length) throw Bad("text after the dict");
        return fields;
    }

    /// <summary>Writes a float32 .npy atomically (a temporary name, then a rename).</summary>
    public static void Write(string path, ReadOnlySpan<float> data, ReadOnlySpan<int> shape)
    {
        var copy = data.ToArray();
        var dims = shape.ToArray();
        AtomicFiles.WriteOne(path, stream => Write(stream, copy, dims));
    }

    /// <summary>A float32 .npy (version 1.0, C order) to a stream.</summary>
    public static void Write(Stream stream, ReadOnlySpan<float> data, ReadOnlySpan<int> shape)
    {
        if (Tensor.ElementCount(shape) != data.Length)
            throw new ArgumentException($"Npy.Write: {data.Length} values do not fill shape {Tensor.Describe(shape)}.");
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape.ToArray());
        string header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(System.Text.Encoding.ASCII.GetBytes(header));
        stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data));
    }

    private static string Field(string header, string name, string path)
    {
        int at = header.IndexOf($"'{name}'", StringComparison.Ordinal);
        if (at < 0) throw new FormatException($"{path}: the .npy header has no '{name}'.");
        int colon = header.IndexOf(':', at);
        int end = name == "shape" ? header.IndexOf(')', colon) + 1 : header.IndexOf(',', colon);
        return header[(colon + 1)..end].Trim();
    }
}
