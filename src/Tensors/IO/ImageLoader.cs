using StbImageSharp;
using NativeIg.Tensors;

namespace NativeIg.Tensors.IO;

/// <summary>Thrown for an image that cannot be read or used; the message names the file.</summary>
public sealed class ImageFormatException : Exception
{
    /// <summary>With a default message.</summary>
    public ImageFormatException() { }

    /// <summary>With <paramref name="message"/>.</summary>
    public ImageFormatException(string message) : base(message) { }

    /// <summary>With <paramref name="message"/> and the exception that caused it.</summary>
    public ImageFormatException(string message, Exception? innerException) : base(message, innerException) { }
}

/// <summary>
/// Image input: decode (JPEG, PNG, BMP, GIF, … via StbImageSharp; grey and alpha become RGB), scale
/// to [0, 1], and resize with padding to the model's size with TensorFlow 2's resize_with_pad
/// semantics. A .npy file holding an [H, W, 3] float32 array in [0, 1] is taken as is.
/// </summary>
public static class ImageLoader
{
    /// <summary>The square size images are resized (with padding) to unless a model asks for another: 224, GoogLeNet's.</summary>
    public const int DefaultSize = 224;

    /// <summary>The largest image file read: 256 MiB.</summary>
    public const long MaxFileBytes = 256L << 20;

    /// <summary>Loads a file as a [size, size, 3] RGB tensor in [0, 1].</summary>
    public static Tensor LoadForModel(string path, int size = DefaultSize, long maxPixels = ImageStructure.DefaultMaxPixels)
    {
        using var image = Load(path, maxPixels);
        return ToModelSize(image, size);
    }

    /// <summary>Image bytes (a stream's, an embedded resource's) as a [size, size, 3] RGB tensor in [0, 1]; <paramref name="source"/> names them in errors.</summary>
    public static Tensor DecodeForModel(byte[] bytes, string source, int size = DefaultSize, long maxPixels = ImageStructure.DefaultMaxPixels)
    {
        using var image = Decode(bytes, source, maxPixels);
        return ToModelSize(image, size);
    }

    /// <summary>An image stream (read to its end, at most <see cref="MaxFileBytes"/>) as a [size, size, 3] RGB tensor in [0, 1]; <paramref name="source"/> names it in errors.</summary>
    public static Tensor LoadForModel(Stream stream, string source = "image stream", int size = DefaultSize, long maxPixels = ImageStructure.DefaultMaxPixels) =>
        DecodeForModel(ReadStream(stream, source), source, size, maxPixels);

    /// <summary>An image stream at its own size: [H, W, 3] RGB in [0, 1].</summary>
    public static Tensor Load(Stream stream, string source = "image stream", long maxPixels = ImageStructure.DefaultMaxPixels) =>
        Decode(ReadStream(stream, source), source, maxPixels);

    private static byte[] ReadStream(Stream stream, string source) =>
        BoundedFile.ReadAll(stream, MaxFileBytes, source, m => new ImageFormatException(m));

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
