using NativeIg.InceptionV1;
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

        using var mask = Visualization.AttributionMask(result.Attributions, signed);
        var normalized = Visualization.Normalize(mask, clipPercentile, signed);
        using var colored = Visualization.Colorize(normalized, h, w, colormap, signed);
        using var overlay = Visualization.Overlay(image, colored);
        Visualization.TutorialFigure(baseline, image, colored, overlay, title).SavePng(paths.Figure);
        Visualization.SavePng(colored, paths.Mask);
        Visualization.SavePng(overlay, paths.Overlay);
        string valueLabel = result.Output == TargetOutput.Probability ? "Model p(target class)" : "Target logit";
        Visualization.SaturationPlots(result.Alphas, result.PathValues, result.MeanPathGradients, valueLabel).SavePng(paths.Saturation);
        Visualization.InterpolationStrip(baseline, image).SavePng(paths.Interpolation);
        Npy.Write(paths.Attributions, result.Attributions.Span, result.Attributions.Shape);
        var path = new float[result.Alphas.Length * 3];
        for (int k = 0; k < result.Alphas.Length; k++)
        {
            path[3 * k] = (float)result.Alphas[k];
            path[3 * k + 1] = (float)result.PathValues[k];
            path[3 * k + 2] = (float)result.MeanPathGradients[k];
        }
        Npy.Write(paths.Path, path, [result.Alphas.Length, 3]);
        return paths;
    }
}
