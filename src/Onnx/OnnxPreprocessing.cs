using System.Text.Json;

namespace NativeIg.Onnx;

/// <summary>
/// How an RGB image in [0, 1] (what the loaders give) becomes the model's input: size, channel order,
/// then per channel (v·<see cref="Scale"/> − mean)/std, in the model's channel order. The default is
/// ImageNet's mean and std on RGB [0, 1] (torchvision's). Given by options, or by a JSON sidecar
/// <c>model.onnx.json</c> next to the model:
/// <code>{ "inputSize": [224, 224], "channelOrder": "BGR", "scale": 255, "mean": [104, 117, 123], "std": [1, 1, 1] }</code>
/// </summary>
public sealed record OnnxPreprocessing
{
    private readonly int _height = 224, _width = 224;

    /// <summary>The largest factor or offset the per-channel map may have (beyond it float32 sums in the first layer overflow).</summary>
    public const float MaxInputMagnitude = 1e12f;

    /// <summary>
    /// The input height the model takes. Unless it is set (here, by <c>with</c>, or by the sidecar's
    /// <c>inputSize</c>), loading a model takes the size its graph input declares (224 when symbolic).
    /// </summary>
    public int Height { get => _height; init { _height = value; InputSizeGiven = true; } }
    /// <summary>The input width the model takes; see <see cref="Height"/>.</summary>
    public int Width { get => _width; init { _width = value; InputSizeGiven = true; } }
    /// <summary>Whether <see cref="Height"/> and <see cref="Width"/> were set rather than left to the model's declared input size.</summary>
    public bool InputSizeGiven { get; private init; }
    /// <summary>Whether the model's channels are blue, green, red (Caffe) rather than RGB.</summary>
    public bool Bgr { get; init; }
    /// <summary>What pixels in [0, 1] are multiplied by before the mean and std (255 for Caffe-style models).</summary>
    public float Scale { get; init; } = 1f;
    /// <summary>Per channel, in the model's channel order.</summary>
    public float[] Mean { get; init; } = [0.485f, 0.456f, 0.406f];
    /// <summary>Per channel, in the model's channel order: (scaled pixel − mean) / std.</summary>
    public float[] Std { get; init; } = [0.229f, 0.224f, 0.225f];

    /// <summary>
    /// A mean image subtracted after the per-channel map: [3, H, W] in the model's channel order (NCHW,
    /// as CNTK and Caffe exports store it), or null. Sidecar: <c>"meanImage": "mean.npy"</c>, beside the model.
    /// </summary>
    public float[]? MeanImage { get; init; }

    /// <summary>
    /// A mean image [3, H, W] (the model's channel order) from a .npy file, or from an ONNX preprocessing
    /// model (its initializer named MeanImage, else its one float initializer of that shape).
    /// </summary>
    public static float[] ReadMeanImage(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Mean image not found: {path}", path);
        if (!path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            using var image = Tensors.IO.Npy.Read(path);
            return image.ToArray();
        }
        var graph = OnnxReader.ReadFile(path).Graph;
        var candidates = graph.Initializers.Values.Where(t => t.Floats is not null && t.Dims.Length is 3 or 4 && t.Dims[^3] == 3).ToList();
        var chosen = graph.Initializers.GetValueOrDefault("MeanImage") ?? (candidates.Count == 1 ? candidates[0] : null)
            ?? throw new OnnxFormatException($"{path}: no initializer named MeanImage and {candidates.Count} float [3, H, W] initializers; which is the mean image?");
        return chosen.Floats ?? throw new OnnxFormatException($"{path}: the initializer MeanImage is not float.");
    }

    /// <summary>The mean image negated and in the engine's layout [H, W, 3], to add after the per-channel map; null when there is none.</summary>
    public float[]? NegatedMeanImageHwc()
    {
        if (MeanImage is null) return null;
        int plane = Height * Width;
        if (MeanImage.Length != 3 * plane)
            throw new ArgumentException($"The mean image has {MeanImage.Length} values; a 3×{Height}×{Width} image has {3 * plane}.");
        if (MeanImage.Any(v => !float.IsFinite(v))) throw new ArgumentException("The mean image holds a value that is not a finite number.");
        var hwc = new float[MeanImage.Length];
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < plane; p++) hwc[p * 3 + c] = -MeanImage[c * plane + p];
        return hwc;
    }

    /// <summary>The affine map for <c>Tape.ChannelAffine</c>: model channel c = scale[c]·image[source[c]] + shift[c].</summary>
    public (int[] Source, float[] Scale, float[] Shift) ChannelAffine()
    {
        if (Mean.Length != 3 || Std.Length != 3) throw new ArgumentException($"Preprocessing needs 3 means and 3 stds (one per colour channel); got {Mean.Length} and {Std.Length}.");
        if (Std.Any(s => !(s > 0) || !float.IsFinite(s))) throw new ArgumentException("Every std must be a finite number > 0.");
        if (!(Scale > 0) || !float.IsFinite(Scale)) throw new ArgumentException($"The scale must be a finite number > 0, got {Scale}.");
        int[] source = Bgr ? [2, 1, 0] : [0, 1, 2];
        var scale = Std.Select(s => Scale / s).ToArray();
        var shift = Mean.Zip(Std, (m, s) => -m / s).ToArray();
        // Each constant is finite on its own, but scale/std or mean/std can still overflow float32 (or the
        // mean be infinite after the cast): the model would then see ∞ and answer NaN for every image.
        for (int c = 0; c < 3; c++)
            if (!float.IsFinite(Mean[c]) || !float.IsFinite(scale[c]) || !float.IsFinite(shift[c]) || !float.IsFinite(scale[c] + shift[c])
                || Math.Abs(scale[c]) > MaxInputMagnitude || Math.Abs(shift[c]) > MaxInputMagnitude)
                throw new ArgumentException($"Preprocessing channel {c}: scale {Scale}, mean {Mean[c]} and std {Std[c]} map pixels to ×{scale[c]} + {shift[c]}, beyond the ±{MaxInputMagnitude:0e0} a model input may reach.");
        return (source, scale, shift);
    }

    /// <summary>The sidecar beside <paramref name="modelPath"/> (<c>model.onnx.json</c>) when there is one, else null.</summary>
    public static OnnxPreprocessing? FromSidecar(string modelPath)
    {
        string path = modelPath + ".json";
        if (!File.Exists(path)) return null;
        try
        {
            using var doc = JsonDocument.Parse(Tensors.IO.BoundedFile.ReadAll(path, 1 << 20, "preprocessing sidecar", m => new OnnxFormatException(m)));
            var root = doc.RootElement;
            var p = new OnnxPreprocessing();
            if (root.TryGetProperty("inputSize", out var size))
            {
                var s = size.EnumerateArray().Select(v => v.GetInt32()).ToArray();
                p = p with { Height = s[0], Width = s.Length > 1 ? s[1] : s[0] };
            }
            if (root.TryGetProperty("channelOrder", out var order)) p = p with { Bgr = order.GetString()?.Equals("BGR", StringComparison.OrdinalIgnoreCase) == true };
            if (root.TryGetProperty("scale", out var scale)) p = p with { Scale = scale.GetSingle() };
            if (root.TryGetProperty("mean", out var mean)) p = p with { Mean = mean.EnumerateArray().Select(v => v.GetSingle()).ToArray() };
            if (root.TryGetProperty("std", out var std)) p = p with { Std = std.EnumerateArray().Select(v => v.GetSingle()).ToArray() };
            if (root.TryGetProperty("meanImage", out var meanImage))
                p = p with { MeanImage = ReadMeanImage(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath))!, meanImage.GetString() ?? "")) };
            p.ChannelAffine(); // validates
            p.NegatedMeanImageHwc();
            if (p.Height is < 1 or > 8192 || p.Width is < 1 or > 8192) throw new ArgumentException($"inputSize {p.Height}×{p.Width} is out of range (1…8192).");
            return p;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException or FormatException or IndexOutOfRangeException or IOException)
        {
            throw new OnnxFormatException($"{path}: {e.Message} Expected e.g. {{ \"inputSize\": [224, 224], \"channelOrder\": \"RGB\", \"scale\": 1, \"mean\": [0.485, 0.456, 0.406], \"std\": [0.229, 0.224, 0.225] }}.", e);
        }
    }
}
