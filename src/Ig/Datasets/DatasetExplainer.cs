using System.Diagnostics;
using System.Runtime.CompilerServices;
using NativeIg.Autodiff;
using NativeIg.Tensors.IO;
using Tensor = NativeIg.Tensors.Tensor;

namespace NativeIg.Ig;

/// <summary>What every image of a run is explained with, and where the outputs go.</summary>
public sealed record DatasetSettings
{
    /// <summary>The run's folder: one folder per image under it (by <see cref="ImageInput.Name"/>), then the report.</summary>
    public required string OutputDirectory { get; init; }
    /// <summary>The integration settings (steps, rule, output, batch, threads).</summary>
    public IgOptions Ig { get; init; } = IgOptions.Default;
    /// <summary>The baseline, as <see cref="Baselines.Parse"/> reads it (black, white, noise:SEED, blur:SIGMA, a path).</summary>
    public string Baseline { get; init; } = "black";
    /// <summary>The class to explain in every image; null: each image's top class (or top <see cref="TopClasses"/>).</summary>
    public int? Target { get; init; }
    /// <summary>Without a <see cref="Target"/>: explain each of the image's K most probable classes (1…10), each in NAME/top-R/ when K &gt; 1.</summary>
    public int TopClasses { get; init; } = 1;
    /// <summary>Percentile clipping of the pictures (null: none).</summary>
    public double? ClipPercentile { get; init; } = 99;
    /// <summary>Signed pictures (diverging map) instead of |attributions|.</summary>
    public bool Signed { get; init; }
    /// <summary>The mask's colours (null: inferno, or the diverging map when signed).</summary>
    public Colormap? Colormap { get; init; }
    /// <summary>Redo images whose outputs are already there with these settings.</summary>
    public bool Force { get; init; }
    /// <summary>The model's name, part of <see cref="Signature"/> (a result of another model is not reused).</summary>
    public string Model { get; init; } = "";
    /// <summary>The square input size the model takes.</summary>
    public int InputSize { get; init; } = 224;
    /// <summary>Who wrote the results (name and version), for the report.</summary>
    public string Tool { get; init; } = "";
    /// <summary>Where it runs, for the report.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Everything that changes a result; a folder whose result.json has another signature is redone.</summary>
    public string Signature => string.Join(';',
        $"model={Model}", $"steps={(Ig.AutoStepsTolerance is { } t ? $"auto:{t.ToString(System.Globalization.CultureInfo.InvariantCulture)}/{Ig.MaxSteps}" : Ig.Steps)}",
        $"rule={PathRules.Name(Ig.Rule)}", $"output={(Ig.Output == TargetOutput.Probability ? "probability" : "logit")}", $"baseline={Baseline}",
        $"target={(Target is { } c ? c : TopClasses > 1 ? $"top:{TopClasses}" : "top")}", $"clip={ClipPercentile?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}",
        $"signed={(Signed ? "true" : "false")}", $"colormap={Colormap?.Name ?? "default"}");
}

/// <summary>
/// Explains many images with one loaded model, one after another, each into its own folder (the
/// tutorial's pictures, the attributions, and result.json), written under temporary names and renamed,
/// so a run that is stopped loses at most the image in flight. An image whose folder already holds a
/// result with the same settings is not recomputed unless <see cref="DatasetSettings.Force"/>; an image
/// that cannot be read gets a result with its error, and the run goes on.
/// </summary>
public sealed class DatasetExplainer(IDifferentiableModel model, Func<Tensor, Tensor> predictProbabilities, Func<int, string> label, DatasetSettings settings)
{
    /// <summary>The files every finished image folder holds.</summary>
    public static IReadOnlyList<string> ImageFiles { get; } =
        ["figure.png", "mask.png", "overlay.png", "saturation.png", "interpolation.png", "attributions.npy", "path.npy", "result.json"];

    /// <summary>The folder of one image's outputs for the class of rank <paramref name="rank"/> (1: the top class, or the target).</summary>
    public string FolderOf(ImageInput input, int rank = 1) =>
        settings.Target is null && settings.TopClasses > 1 ? Path.Combine(settings.OutputDirectory, ImageInputs.FolderName(input.Name), $"top-{rank}") : Path.Combine(settings.OutputDirectory, ImageInputs.FolderName(input.Name));

    private int Ranks => settings.Target is null ? Math.Clamp(settings.TopClasses, 1, 10) : 1;

    /// <summary>
    /// Each image's result as it is finished (or found already done), in the order given. Cancelling stops
    /// the image in flight (nothing of it is written) and ends the sequence with <see cref="OperationCanceledException"/>.
    /// </summary>
    public async IAsyncEnumerable<(ExplanationRecord Record, bool Reused)> ExplainAsync(IReadOnlyList<ImageInput> inputs, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var ig = new IntegratedGradients(model);
        foreach (var input in inputs)
        {
            for (int rank = 1; rank <= Ranks; rank++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await Task.Yield();
                if (!settings.Force && TryReadDone(input, rank) is { } done)
                {
                    yield return (done, true);
                    continue;
                }
                var record = Explain(ig, input, rank, cancellationToken);
                AtomicFiles.WriteOne(Path.Combine(FolderOf(input, rank), "result.json"), s => s.Write(System.Text.Encoding.UTF8.GetBytes(record.ToJsonLine() + "\n")));
                yield return (record, false);
                if (record.Error is not null) break; // an unreadable image fails once, not once per class
            }
        }
    }

    /// <summary>A previous result with these settings whose files are all present, else null.</summary>
    private ExplanationRecord? TryReadDone(ImageInput input, int rank)
    {
        var folder = FolderOf(input, rank);
        var resultPath = Path.Combine(folder, "result.json");
        if (!File.Exists(resultPath)) return null;
        try
        {
            var record = ExplanationRecord.FromJsonLine(DatasetReport.BoundedText(resultPath), resultPath);
            if (record.Error is not null || record.Settings != settings.Signature || record.Image != input.Name || record.Rank != rank) return null;
            return ImageFiles.All(f => File.Exists(Path.Combine(folder, f))) ? record : null;
        }
        catch (FormatException) { return null; } // damaged, a pipe, or too large: redone
    }

    private ExplanationRecord Explain(IntegratedGradients ig, ImageInput input, int rank, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        int threads = settings.Ig.Threads ?? NativeIg.Tensors.ComputeThreads.Current;
        Tensor image;
        try { image = ImageLoader.LoadForModel(input.Path, settings.InputSize); }
        catch (Exception e) when (e is ImageFormatException or IOException or UnauthorizedAccessException or FormatException)
        {
            return new ExplanationRecord { Image = input.Name, Rank = rank, Settings = settings.Signature, Error = e.Message, Tool = settings.Tool, Device = settings.Device, Threads = threads };
        }
        using (image)
        {
            using var baseline = Baselines.Parse(settings.Baseline, image);
            using var batch = image.Reshape(1, settings.InputSize, settings.InputSize, 3);
            using var probabilities = predictProbabilities(batch);
            var top = NativeIg.Tensors.Ranking.TopK(probabilities.Span, Math.Max(3, Ranks));
            int target = settings.Target ?? top[rank - 1].Index;
            using var result = ig.Attribute(image, baseline, target, settings.Ig, cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
            ExplanationFiles.Write(FolderOf(input, rank), result, image, baseline, $"IG for '{label(target)}' ({target}), {result.Steps} steps",
                settings.Colormap, settings.ClipPercentile, settings.Signed);
            return new ExplanationRecord
            {
                Image = input.Name, Rank = rank, Settings = settings.Signature, Target = target, Label = label(target),
                Top = top.Take(3).Select(t => (t.Index, label(t.Index), (double)t.Value)).ToArray(), Steps = result.Steps,
                FInput = result.FInput, FBaseline = result.FBaseline, Sum = result.Sum, Delta = result.Delta, RelativeDelta = result.RelativeDelta,
                Seconds = clock.Elapsed.TotalSeconds, IgSeconds = result.Elapsed.TotalSeconds, Tool = settings.Tool, Device = settings.Device, Threads = threads,
            };
        }
    }
}
