using NativeIg.Tensors.IO;
using NativeIg.Tensors;

namespace NativeIg.Ig;

/// <summary>Baseline images x′ for IG, all [H, W, C] in the model's input space (RGB in [0, 1]).</summary>
public static class Baselines
{
    /// <summary>All zeros: the tutorial's black image.</summary>
    public static Tensor Black(params int[] shape) => Tensor.Zeros(shape);

    /// <summary>All ones: a white image.</summary>
    public static Tensor White(params int[] shape) => Tensor.Filled(1f, shape);

    /// <summary>Uniform noise in [0, 1) from a seeded generator: the same seed gives the same image on every machine.</summary>
    public static Tensor UniformNoise(int seed, params int[] shape)
    {
        var t = Tensor.Uninitialized(shape);
        var random = new Random(seed);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = random.NextSingle();
        return t;
    }

    /// <summary>
    /// The input blurred by a Gaussian of standard deviation σ pixels: the one blur of the library,
    /// <see cref="NativeIg.Ig.GaussianBlur.Blur"/> (scipy's definition: mirrored edges, ±4σ), which Blur IG's path uses too.
    /// </summary>
    public static Tensor GaussianBlur(Tensor image, float sigma)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Rank != 3) throw new ArgumentException($"GaussianBlur expects an [H, W, C] image; got {image.ShapeString}.");
        if (!(sigma > 0) || sigma > MaxBlurSigma) throw new ArgumentOutOfRangeException(nameof(sigma), $"Blur σ must be a number of pixels in (0, {MaxBlurSigma}], got {sigma}.");
        return NativeIg.Ig.GaussianBlur.Blur(image, sigma);
    }

    /// <summary>The largest blur σ, in pixels: beyond a few hundred the blurred image is flat anyway.</summary>
    public const float MaxBlurSigma = 1000f;

    /// <summary>
    /// Checks a baseline spec's syntax and ranges without reading any image: black, white,
    /// noise[:integer seed], blur[:σ in (0, <see cref="MaxBlurSigma"/>]], or the path of an existing
    /// file. Throws <see cref="ArgumentException"/> saying what is wrong.
    /// </summary>
    public static void ValidateSpec(string spec)
    {
        var (name, argument) = SplitSpec(spec);
        switch (name.ToLowerInvariant())
        {
            case "black" or "white" when argument is null: return;
            case "noise" or "uniform":
                if (argument is not null && !int.TryParse(argument, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out _))
                    throw new ArgumentException($"Baseline '{spec}': the noise seed must be an integer.");
                return;
            case "blur":
                if (argument is not null && !(float.TryParse(argument, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out float sigma) && sigma > 0 && sigma <= MaxBlurSigma))
                    throw new ArgumentException($"Baseline '{spec}': the blur σ must be a number of pixels in (0, {MaxBlurSigma}].");
                return;
        }
        if (Directory.Exists(spec)) throw new ArgumentException($"Baseline '{spec}' is a folder; an image file is needed.");
        if (!File.Exists(spec))
            throw new ArgumentException($"Baseline '{spec}' is neither black, white, noise[:seed], blur[:sigma] nor an existing image file.");
    }

    private static (string Name, string? Argument) SplitSpec(string spec) =>
        spec.IndexOf(':') is var colon and > 0 && !File.Exists(spec) ? (spec[..colon], spec[(colon + 1)..]) : (spec, null);

    /// <summary>
    /// Parses a baseline spec: black, white, noise[:seed], blur[:sigma], or a path to an image (resized
    /// like the input). <paramref name="image"/> is the input (needed for blur and for the shape).
    /// </summary>
    public static Tensor Parse(string spec, Tensor image)
    {
        ValidateSpec(spec);
        var shape = image.Shape.ToArray();
        var (name, argument) = SplitSpec(spec);
        switch (name.ToLowerInvariant())
        {
            case "black": return Black(shape);
            case "white": return White(shape);
            case "noise" or "uniform":
                {
                    int seed = 0;
                    if (argument is not null && !int.TryParse(argument, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out seed))
                        throw new ArgumentException($"Baseline '{spec}': the noise seed must be an integer.");
                    return UniformNoise(seed, shape);
                }
            case "blur":
                {
                    float sigma = 10f;
                    if (argument is not null && !float.TryParse(argument, System.Globalization.CultureInfo.InvariantCulture, out sigma))
                        throw new ArgumentException($"Baseline '{spec}': the blur σ must be a number of pixels.");
                    return GaussianBlur(image, sigma);
                }
        }
        if (!File.Exists(spec))
            throw new ArgumentException($"Baseline '{spec}' is neither black, white, noise[:seed], blur[:sigma] nor an existing image file.");
        var loaded = ImageLoader.LoadForModel(spec, image.Dim(0));
        if (!loaded.SameShape(image))
        {
            var s = loaded.ShapeString;
            loaded.Dispose();
            throw new ArgumentException($"Baseline image {spec} has shape {s}; the input has {image.ShapeString}.");
        }
        return loaded;
    }
}
