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
    public const int MaxSide = 16384;

    /// <summary>Loads a file as a [size, size, 3] RGB tensor in [0, 1].</summary>
    public static Tensor LoadForModel(string path, int size = GoogLeNet.InputSize)
    {
        using var image = Load(path);
        if (image.Dim(0) == size && image.Dim(1) == size) return image.Clone();
        return ResizeWithPad(image, size, size);
    }

    /// <summary>Loads a file at its own size: [H, W, 3] RGB in [0, 1].</summary>
    public static Tensor Load(string path)
    {
        if (!File.Exists(path)) throw new ImageFormatException($"{path}: file not found.");
        if (path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
        {
            var t = Npy.Read(path);
            if (t.Rank != 3 || t.Dim(2) != 3)
            {
                var shape = t.ShapeString;
                t.Dispose();
                throw new ImageFormatException($"{path}: a .npy image must be [H, W, 3] float32 RGB in [0,1]; got shape {shape}.");
            }
            return t;
        }
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) { throw new ImageFormatException($"{path}: cannot read the file: {e.Message}", e); }
        return Decode(bytes, path);
    }

    /// <summary>Decodes image bytes; <paramref name="source"/> names them in errors.</summary>
    public static Tensor Decode(byte[] bytes, string source)
    {
        if (bytes.Length == 0) throw new ImageFormatException($"{source}: the file is empty.");
        ImageInfo? info;
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            info = ImageInfo.FromStream(stream);
        }
        catch (Exception e) { throw new ImageFormatException($"{source}: not a readable image ({e.Message}).", e); }
        if (info is null) throw new ImageFormatException($"{source}: not a recognised image format (JPEG, PNG, BMP, GIF, TGA, PSD, HDR or .npy expected).");
        var (w, h) = (info.Value.Width, info.Value.Height);
        if (w < 1 || h < 1 || w > MaxSide || h > MaxSide)
            throw new ImageFormatException($"{source}: image size {w}×{h} is outside 1…{MaxSide} pixels per side.");
        RequireCompleteFile(bytes, source);
        ImageResult result;
        try { result = ImageResult.FromMemory(bytes, ColorComponents.RedGreenBlue); }
        catch (Exception e) { throw new ImageFormatException($"{source}: the image data is damaged or truncated ({e.Message}).", e); }
        if (result?.Data is null || result.Data.Length < w * h * 3)
            throw new ImageFormatException($"{source}: the decoder returned no pixel data (damaged or truncated file?).");
        var t = Tensor.Uninitialized(result.Height, result.Width, 3);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = result.Data[i] / 255f;
        return t;
    }

    /// <summary>
    /// stb_image fills a truncated JPEG's missing rows with grey and returns success: a silently wrong
    /// image. JPEG must have its end-of-image marker after the last start-of-scan; PNG its IEND chunk.
    /// </summary>
    private static void RequireCompleteFile(byte[] bytes, string source)
    {
        var span = bytes.AsSpan();
        if (span.Length >= 2 && span[0] == 0xFF && span[1] == 0xD8)
        {
            int lastScan = span.LastIndexOf([(byte)0xFF, (byte)0xDA]);
            if (lastScan < 0 || span[lastScan..].IndexOf([(byte)0xFF, (byte)0xD9]) < 0)
                throw new ImageFormatException($"{source}: the JPEG data is truncated (no end-of-image marker after the image data).");
        }
        else if (span.Length >= 8 && span[..8].SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }))
        {
            if (span.LastIndexOf("IEND"u8) < 0)
                throw new ImageFormatException($"{source}: the PNG data is truncated (no IEND chunk).");
        }
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
    public static Tensor Read(string path)
    {
        var (shape, data) = ReadDoubles(path);
        var t = Tensor.Uninitialized(shape.Length == 0 ? [1] : shape);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = (float)data[i];
        return t;
    }

    /// <summary>Reads any float32/float64 array as doubles (exact for both).</summary>
    public static (int[] Shape, double[] Data) ReadDoubles(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || bytes[0] != 0x93 || System.Text.Encoding.ASCII.GetString(bytes, 1, 5) != "NUMPY")
            throw new FormatException($"{path}: not a .npy file (missing the \\x93NUMPY magic).");
        int major = bytes[6];
        int headerLength = major == 1 ? BitConverter.ToUInt16(bytes, 8) : BitConverter.ToInt32(bytes, 8);
        int headerStart = major == 1 ? 10 : 12;
        if (headerStart + headerLength > bytes.Length) throw new FormatException($"{path}: the .npy header runs past the end of the file.");
        var header = System.Text.Encoding.ASCII.GetString(bytes, headerStart, headerLength);
        string descr = Field(header, "descr", path);
        if (Field(header, "fortran_order", path).StartsWith("True")) throw new FormatException($"{path}: Fortran-order arrays are not supported.");
        var shapeText = Field(header, "shape", path);
        var shape = shapeText.Trim('(', ')', ' ').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
        long count = shape.Aggregate(1L, (a, d) => a * d);
        int dataStart = headerStart + headerLength;
        int itemSize = descr.Trim('\'') switch
        {
            "<f4" => 4,
            "<f8" => 8,
            var other => throw new FormatException($"{path}: dtype {other} is not supported (expected <f4 or <f8)."),
        };
        if (dataStart + count * itemSize > bytes.Length)
            throw new FormatException($"{path}: shape ({string.Join(", ", shape)}) needs {count * itemSize} data bytes, the file has {bytes.Length - dataStart}.");
        var data = new double[count];
        for (int i = 0; i < count; i++)
            data[i] = itemSize == 4 ? BitConverter.ToSingle(bytes, dataStart + i * 4) : BitConverter.ToDouble(bytes, dataStart + i * 8);
        return (shape, data);
    }

    public static void Write(string path, ReadOnlySpan<float> data, ReadOnlySpan<int> shape)
    {
        if (Tensor.ElementCount(shape) != data.Length)
            throw new ArgumentException($"Npy.Write: {data.Length} values do not fill shape {Tensor.Describe(shape)}.");
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape.ToArray());
        string header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        using var stream = File.Create(path);
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
        if (!File.Exists(path)) throw new FileNotFoundException($"Labels file not found: {path}", path);
        var lines = File.ReadAllLines(path).Where(l => l.Trim().Length > 0).ToArray();
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

    /// <summary>Finds the labels file: next to the weights, in labels/ folders of the working tree, or ../shared/labels.</summary>
    public static ImageNetLabels LoadDefault(string? explicitPath = null)
    {
        if (!string.IsNullOrWhiteSpace(explicitPath)) return Load(explicitPath);
        foreach (var dir in WeightsResolver.SearchDirectories())
            foreach (var candidate in new[] { "labels/synset_words.txt", "weights/synset_words.txt", "shared/labels/synset_words.txt", "../shared/labels/synset_words.txt" })
            {
                var path = Path.Combine(dir, candidate);
                if (File.Exists(path)) return Load(path);
            }
        throw new FileNotFoundException("No ImageNet labels found (labels/synset_words.txt). Pass --labels PATH, or run `bash weights/fetch.sh`, which copies them beside the weights.");
    }
}
