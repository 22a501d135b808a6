using NativeIg.Tensors.IO;
using NativeIg.Tensors;

namespace NativeIg.Ig;

/// <summary>Paths of the files <see cref="ExplanationFiles.Write"/> produces.</summary>
public sealed record ExplanationPaths(string Figure, string Mask, string Overlay, string Saturation, string Attributions, string Interpolation, string Path);

/// <summary>Writes the standard set of pictures and arrays for one IG result.</summary>
public static class ExplanationFiles
{
    /// <summary>
    /// figure.png (the tutorial's 2×2), mask.png, overlay.png, saturation.png, interpolation.png,
    /// attributions.npy [H, W, C] float32 and path.npy [steps, 3] (alpha, F, mean gradient) into
    /// <paramref name="directory"/>.
    /// </summary>
    public static ExplanationPaths Write(string directory, IgResult result, Tensor image, Tensor baseline, string title,
        Colormap? colormap = null, double? clipPercentile = null, bool signed = false)
    {
        Directory.CreateDirectory(directory);
        colormap ??= signed ? Colormap.Diverging : Colormap.Inferno;
        int h = image.Dim(0), w = image.Dim(1);
        var paths = new ExplanationPaths(
            Path.Combine(directory, "figure.png"), Path.Combine(directory, "mask.png"), Path.Combine(directory, "overlay.png"),
            Path.Combine(directory, "saturation.png"), Path.Combine(directory, "attributions.npy"),
            Path.Combine(directory, "interpolation.png"), Path.Combine(directory, "path.npy"));

        // Every file goes to a temporary name first and all are renamed together at the end, so an
        // interrupted run leaves the previous outputs whole and never a mix of old and new.
        using var files = new AtomicFiles();
        using var mask = Visualization.AttributionMask(result.Attributions, signed);
        var normalized = Visualization.Normalize(mask, clipPercentile, signed);
        var range = Visualization.DisplayRange(mask, clipPercentile, signed);
        using var colored = Visualization.Colorize(normalized, h, w, colormap, signed);
        using var overlay = Visualization.Overlay(image, colored);
        if (signed)
        {
            // The letterbox of a non-square image is no attribution at all: the background's white, not
            // the map's neutral grey (which means "zero attribution" inside the picture).
            var padding = Visualization.Padding(image);
            Visualization.PaintPadding(colored, padding, (1f, 1f, 1f));
            Visualization.PaintPadding(overlay, padding, (1f, 1f, 1f));
        }
        string valueLabel = result.Output == TargetOutput.Probability ? "Model p(target class)" : "Target logit";
        // The five pictures are drawn and PNG-encoded in parallel (encoding is most of the time), then written.
        var pictures = new (string Path, Func<Canvas> Draw)[]
        {
            (paths.Figure, () => Visualization.TutorialFigure(baseline, image, colored, overlay, title,
                colorBar: new Visualization.ColorBar(colormap, range.Low, range.High, signed ? "Σ attributions" : "Σ |attributions|"))),
            (paths.Mask, () => Visualization.ToCanvas(colored)),
            (paths.Overlay, () => Visualization.ToCanvas(overlay)),
            (paths.Saturation, () => Visualization.SaturationPlots(result.Alphas, result.PathValues, result.MeanPathGradients, valueLabel)),
            (paths.Interpolation, () => Visualization.InterpolationStrip(baseline, image)),
        };
        var encoded = new byte[pictures.Length][];
        Parallel.For(0, pictures.Length, i =>
        {
            using var memory = new MemoryStream();
            pictures[i].Draw().WritePng(memory);
            encoded[i] = memory.ToArray();
        });
        for (int i = 0; i < pictures.Length; i++)
        {
            var bytes = encoded[i];
            files.Write(pictures[i].Path, stream => stream.Write(bytes));
        }
        files.Write(paths.Attributions, stream => Npy.Write(stream, result.Attributions.Span, result.Attributions.Shape));
        var path = new float[result.Alphas.Length * 3];
        for (int k = 0; k < result.Alphas.Length; k++)
        {
            path[3 * k] = (float)result.Alphas[k];
            path[3 * k + 1] = (float)result.PathValues[k];
            path[3 * k + 2] = (float)result.MeanPathGradients[k];
        }
        files.Write(paths.Path, stream => Npy.Write(stream, path, [result.Alphas.Length, 3]));
        files.Commit();
        return paths;
    }

    /// <summary>
    /// For a method without a path (gradients, SmoothGrad) or with pictures of its own (XRAI, layers): each
    /// named picture as a PNG and each named array as a .npy [shape] float32, in <paramref name="directory"/>,
    /// all under temporary names and renamed together at the end. Returns the paths, in the order given.
    /// </summary>
    public static IReadOnlyList<string> WritePictures(string directory, IReadOnlyList<(string Name, Canvas Picture)> pictures,
        IReadOnlyList<(string Name, Tensor Values)> arrays)
    {
        ArgumentNullException.ThrowIfNull(pictures);
        ArgumentNullException.ThrowIfNull(arrays);
        Directory.CreateDirectory(directory);
        using var files = new AtomicFiles();
        var paths = new List<string>();
        foreach (var (name, picture) in pictures)
        {
            var path = Path.Combine(directory, name);
            using var memory = new MemoryStream();
            picture.WritePng(memory);
            var bytes = memory.ToArray();
            files.Write(path, stream => stream.Write(bytes));
            paths.Add(path);
        }
        foreach (var (name, values) in arrays)
        {
            var path = Path.Combine(directory, name);
            files.Write(path, stream => Npy.Write(stream, values.Span, values.Shape));
            paths.Add(path);
        }
        files.Commit();
        return paths;
    }
}
