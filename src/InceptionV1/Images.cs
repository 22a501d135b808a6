using StbImageSharp;
using NativeIg.Tensors;

namespace NativeIg.InceptionV1;

/// <summary>Thrown for an image that cannot be read or used; the message names the file.</summary>
public sealed class ImageFormatException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Image input: decode (JPEG, PNG, BMP, GIF, … via StbImageSharp; grey and alpha become RGB), scale
/// to [0, 1], and resize with padding to the model's size with TensorFlow 2's resize_with_pad
/// semantics. A .npy file holding an [H, W, 3] float32 array in [0, 1] is taken as is.
/// </summary>
public static class ImageLoader
{
    /// <summary>The largest image file read: 256 MiB.</summary>
    public const long MaxFileBytes = 256L << 20;

    /// <summary>Loads a file as a [size, size, 3] RGB tensor in [0, 1].</summary>
    public static Tensor LoadForModel(string path, int size = GoogLeNet.InputSize, long maxPixels = ImageStructure.DefaultMaxPixels)
    {
        using var image = Load(path, maxPixels);
        return ToModelSize(image, size);
    }

    /// <summary>Image bytes (a stream's, an embedded resource's) as a [size, size, 3] RGB tensor in [0, 1]; <paramref name="source"/> names them in errors.</summary>
    public static Tensor DecodeForModel(byte[] bytes, string source, int size = GoogLeNet.InputSize, long maxPixels = ImageStructure.DefaultMaxPixels)
    {
        using var image = Decode(bytes, source, maxPixels);
        return ToModelSize(image, size);
    }

    private static Tensor ToModelSize(Tensor image, int size) =>
        image.Dim(0) == size && image.Dim(1) == size ? image.Clone() : ResizeWithPad(image, size, size);

    /// <summary>Loads a file at its own size: [H, W, 3] RGB in [0, 1].</summary>
    public static Tensor Load(string path, long maxPixels = ImageStructure.DefaultMaxPixels)
    {
        if (Directory.Exists(path)) throw new ImageFormatException($"{path}: is a folder; an image file is needed.");
        if (!File.Exists(path)) throw new ImageFormatException($"{path}: file not found.");
        if (path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
        {
            var t = Npy.Read(path);
            string? problem = t.Rank != 3 || t.Dim(2) != 3 ? $"a .npy image must be [H, W, 3] float32 RGB in [0,1]; got shape {t.ShapeString}"
                : (long)t.Dim(0) * t.Dim(1) > maxPixels ? $"the array is {t.Dim(1)}×{t.Dim(0)}, over the limit of {maxPixels / 1e6:0.#} megapixels"
                : System.Numerics.Tensors.TensorPrimitives.IndexOfMaxMagnitude<float>(t.Span) is var at && at >= 0 && !float.IsFinite(t.Span[at]) ? $"value {t.Span[at]} at index {at}; pixels must be finite numbers in [0, 1]"
                : null;
            if (problem is not null)
            {
                t.Dispose();
                throw new ImageFormatException($"{path}: {problem}.");
            }
            return t;
        }
        byte[] bytes;
        try { bytes = BoundedFile.ReadAll(path, MaxFileBytes, "image", m => new ImageFormatException(m)); }
        catch (IOException e) { throw new ImageFormatException($"{path}: cannot read the file: {e.Message}", e); }
        return Decode(bytes, path, maxPixels);
    }

    /// <summary>How long one decode may run before it is abandoned with an error (a guard behind <see cref="ImageStructure"/>).</summary>
    public static readonly TimeSpan DecodeTimeLimit = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Decodes image bytes; <paramref name="source"/> names them in errors. The structure is checked
    /// first (<see cref="ImageStructure.Check"/>: format, completeness, at most <paramref name="maxPixels"/>
    /// pixels), so the third-party decoder only sees complete, bounded files; it then runs on its own
    /// thread under <see cref="DecodeTimeLimit"/>, so even a decoder bug cannot hang the caller.
    /// </summary>
    public static Tensor Decode(byte[] bytes, string source, long maxPixels = ImageStructure.DefaultMaxPixels)
    {
        var header = ImageStructure.Check(bytes, source, maxPixels);
        ImageResult? result = null;
        Exception? failure = null;
        var decoder = new Thread(() =>
        {
            try { result = ImageResult.FromMemory(bytes, ColorComponents.RedGreenBlue); }
            catch (Exception e) { failure = e; }
        }, maxStackSize: 4 << 20) { IsBackground = true, Name = "nativeig image decode" };
        decoder.Start();
        if (!decoder.Join(DecodeTimeLimit))
            throw new ImageFormatException($"{source}: the {header.Format} decoder did not finish within {DecodeTimeLimit.TotalSeconds:0} s (a damaged file?).");
        if (failure is not null)
            throw new ImageFormatException($"{source}: the {header.Format} data is damaged or truncated ({Printable(failure.Message)}).", failure);
        if (result?.Data is null || result.Width != header.Width || result.Height != header.Height || result.Data.Length < (long)header.Width * header.Height * 3)
            throw new ImageFormatException($"{source}: the decoder returned no complete {header.Width}×{header.Height} image (damaged file?).");
        var t = Tensor.Uninitialized(result.Height, result.Width, 3);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = result.Data[i] / 255f;
        return t;
    }

    /// <summary>A decoder's message with control characters (stb's chunk names may hold NULs) shown as \xNN.</summary>
    internal static string Printable(string text)
    {
        var builder = new System.Text.StringBuilder(text.Length);
        foreach (char c in text)
            if (char.IsControl(c)) builder.Append($"\\x{(int)c:X2}");
            else builder.Append(c);
        return builder.ToString();
    }

    /// <summary>
    /// TensorFlow 2 tf.image.resize_with_pad (bilinear, half-pixel centres, no antialias), in float32
    /// exactly as TF computes it: ratio = max(w/tw, h/th); resized = floor(size/ratio); the image is
    /// placed at floor((target − size/ratio)/2) in a zero canvas.
    /// </summary>
    public static Tensor ResizeWithPad(Tensor image, int targetH, int targetW)
    {
        if (image.Rank != 3) throw new ArgumentException($"ResizeWithPad expects [H, W, C]; got {image.ShapeString}.");
        int h = image.Dim(0), w = image.Dim(1), c = image.Dim(2);
        float ratio = MathF.Max((float)w / targetW, (float)h / targetH);
        float heightF = h / ratio, widthF = w / ratio;
        int rh = Math.Max(1, (int)MathF.Floor(heightF)), rw = Math.Max(1, (int)MathF.Floor(widthF));
        int top = Math.Max(0, (int)MathF.Floor((targetH - heightF) / 2));
        int left = Math.Max(0, (int)MathF.Floor((targetW - widthF) / 2));
        using var resized = ResizeBilinear(image, rh, rw);
        var canvas = Tensor.Zeros(targetH, targetW, c);
        var src = resized.Span; var dst = canvas.Span;
        for (int y = 0; y < rh && top + y < targetH; y++)
            src.Slice(y * rw * c, Math.Min(rw, targetW - left) * c).CopyTo(dst.Slice(((top + y) * targetW + left) * c));
        return canvas;
    }

    /// <summary>TensorFlow's ResizeBilinear with half_pixel_centers = true, align_corners = false.</summary>
    public static Tensor ResizeBilinear(Tensor image, int outH, int outW)
    {
        int h = image.Dim(0), w = image.Dim(1), c = image.Dim(2);
        float scaleY = (float)h / outH, scaleX = (float)w / outW;
        var result = Tensor.Uninitialized(outH, outW, c);
        var src = image.Span; var dst = result.Span;
        var xs = new (int Lo, int Hi, float Lerp)[outW];
        for (int x = 0; x < outW; x++) xs[x] = Interpolation(x, scaleX, w);
        for (int y = 0; y < outH; y++)
        {
            var (y0, y1, yl) = Interpolation(y, scaleY, h);
            for (int x = 0; x < outW; x++)
            {
                var (x0, x1, xl) = xs[x];
                for (int ch = 0; ch < c; ch++)
                {
                    float tl = src[(y0 * w + x0) * c + ch], tr = src[(y0 * w + x1) * c + ch];
                    float bl = src[(y1 * w + x0) * c + ch], br = src[(y1 * w + x1) * c + ch];
                    float topRow = tl + (tr - tl) * xl;
                    float bottomRow = bl + (br - bl) * xl;
                    dst[(y * outW + x) * c + ch] = topRow + (bottomRow - topRow) * yl;
                }
            }
        }
        return result;
    }

    private static (int Lo, int Hi, float Lerp) Interpolation(int dst, float scale, int size)
    {
        float src = (dst + 0.5f) * scale - 0.5f;
        float floor = MathF.Floor(src);
        int lo = Math.Max((int)floor, 0);
        int hi = Math.Min((int)MathF.Ceiling(src), size - 1);
        return (lo, hi, src - floor);
    }
}

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

/// <summary>ImageNet class names in the model's order, from synset_words.txt or TensorFlow's ImageNetLabels.txt.</summary>
public sealed class ImageNetLabels
{
    private readonly string[] _names;

    private ImageNetLabels(string[] names) => _names = names;

    public int Count => _names.Length;

    /// <summary>The short display name ("fireboat", "giant panda").</summary>
    public string this[int index] => _names[index];

    /// <summary>
    /// Reads 1000 synset lines ("n03344393 fireboat, ...": the first name is kept) or TensorFlow's 1001
    /// lines (line 0 "background": line i+1 is class i).
    /// </summary>
    public static ImageNetLabels Load(string path)
    {
        if (!File.Exists(path) && !Directory.Exists(path)) throw new FileNotFoundException($"Labels file not found: {path}", path);
        var bytes = BoundedFile.ReadAll(path, 16 << 20, "labels", m => new FormatException(m));
        if (bytes.AsSpan().IndexOf((byte)0) >= 0) throw new FormatException($"{path}: not a text file (it holds NUL bytes); expected ImageNet labels, one per line.");
        var lines = System.Text.Encoding.UTF8.GetString(bytes).Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0).ToArray();
        if (lines.Length == GoogLeNet.ClassCount + 1 && lines[0].Trim() == "background")
            return new ImageNetLabels(lines.Skip(1).Select(l => l.Trim()).ToArray());
        if (lines.Length == GoogLeNet.ClassCount)
            return new ImageNetLabels(lines.Select(ShortName).ToArray());
        throw new FormatException($"{path}: expected {GoogLeNet.ClassCount} synset lines or {GoogLeNet.ClassCount + 1} TensorFlow labels starting with 'background'; found {lines.Length} lines.");
    }

    private static string ShortName(string line)
    {
        var text = line.Trim();
        int space = text.IndexOf(' ');
        if (space > 0 && text[0] == 'n' && text[1..space].All(char.IsDigit)) text = text[(space + 1)..];
        int comma = text.IndexOf(',');
        return (comma >= 0 ? text[..comma] : text).Trim();
    }

    /// <summary>Class index for a label name (case-insensitive, exact) or a number; null when unknown.</summary>
    public int? Find(string nameOrIndex)
    {
        if (int.TryParse(nameOrIndex, out int index)) return index >= 0 && index < Count ? index : null;
        for (int i = 0; i < _names.Length; i++)
            if (string.Equals(_names[i], nameOrIndex.Trim(), StringComparison.OrdinalIgnoreCase)) return i;
        return null;
    }

    /// <summary>
    /// Finds the labels file: <paramref name="explicitPath"/>; synset_words.txt beside the weights in use
    /// (<paramref name="weightsPath"/>); labels/ and weights/ folders up the working tree; ../shared/labels;
    /// the per-user cache.
    /// </summary>
    public static ImageNetLabels LoadDefault(string? explicitPath = null, string? weightsPath = null)
    {
        if (!string.IsNullOrWhiteSpace(explicitPath)) return Load(explicitPath);
        if (!string.IsNullOrWhiteSpace(weightsPath) && Path.GetDirectoryName(Path.GetFullPath(weightsPath)) is { } weightsDir)
            foreach (var name in new[] { "synset_words.txt", "ImageNetLabels.txt" })
                if (File.Exists(Path.Combine(weightsDir, name))) return Load(Path.Combine(weightsDir, name));
        foreach (var dir in WeightsResolver.SearchDirectories())
            foreach (var candidate in new[] { "labels/synset_words.txt", "weights/synset_words.txt", "shared/labels/synset_words.txt", "../shared/labels/synset_words.txt" })
            {
                var path = Path.Combine(dir, candidate);
                if (File.Exists(path)) return Load(path);
            }
        var cached = Path.Combine(WeightsResolver.CacheDirectory, "synset_words.txt");
        if (File.Exists(cached)) return Load(cached);
        throw new FileNotFoundException("No ImageNet labels found (labels/synset_words.txt). Pass --labels PATH, or run `nativeig weights fetch` or `bash weights/fetch.sh`, which put them beside the weights.");
    }
}
