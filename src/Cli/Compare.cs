using System.Text.Json.Nodes;
using NativeIg.Ig;
using NativeIg.InceptionV1;

namespace NativeIg.Cli;

/// <summary>`nativeig compare IMAGE`: every method side by side in one figure, with each one's completeness and cost.</summary>
internal static class Compare
{
    public static readonly string[] ValueOptions =
        ["--target", "--steps", "--batch", "--output", "--out", "--colormap", "--clip", "--noise-samples", "--noise-sigma", "--noise-seed", "--methods",
         "--weights", "--labels", "--threads", "--device", .. ModelChoice.ValueOptions];
    public static readonly string[] Flags = ["--json", "--quiet", "--skip-checksum", .. ModelChoice.Flags];

    public static int Run(Arguments a, TextWriter stdout, TextWriter stderr, CancellationToken cancellation)
    {
        if (a.Positional.Count > 1) throw new UsageException("compare takes one IMAGE.");
        var defaults = new ComparisonOptions();
        int steps = a.Int("--steps") ?? defaults.Steps;
        if (steps is < 1 or > 10_000) throw new UsageException($"--steps must be in 1…10000, got {steps}.");
        int batch = a.Int("--batch") ?? 32;
        if (batch is < 1 or > Explain.MaxBatch) throw new UsageException($"--batch must be in 1…{Explain.MaxBatch}, got {batch}.");
        int samples = a.Int("--noise-samples") ?? defaults.NoiseSamples;
        if (samples is < 1 or > NoiseTunnel.MaxSamples) throw new UsageException($"--noise-samples must be in 1…{NoiseTunnel.MaxSamples}, got {samples}.");
        double sigma = a.Double("--noise-sigma") ?? defaults.NoiseSigma;
        if (!(sigma > 0 && sigma <= 1)) throw new UsageException($"--noise-sigma is a fraction of the input's range in (0, 1], got {sigma}.");
        int seed = a.Int("--noise-seed") ?? 0;
        IReadOnlyList<string>? chosen = null;
        if (a.Value("--methods") is { } list)
        {
            chosen = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(m => m.ToLowerInvariant()).Distinct().ToArray();
            var unknown = chosen.Where(m => !MethodComparison.MethodNames.Contains(m)).ToArray();
            if (chosen.Count == 0 || unknown.Length > 0)
                throw new UsageException($"--methods takes a comma-separated list of {string.Join(", ", MethodComparison.MethodNames)}; got '{list}'.");
            chosen = MethodComparison.MethodNames.Where(chosen.Contains).ToArray(); // the figure's order
        }
        var (output, chosenColormap, clip) = Explain.ParsePictureOptions(a);
        var colormap = chosenColormap ?? Colormap.Inferno;
        ModelChoice.ParsePreprocessing(a, null);
        using var threadLimit = Program.ApplyThreads(a);
        using var device = Program.OpenDevice(a);
        var onnxChoice = a.Value("--model") is not null ? ModelChoice.Load(a, device) : null;
        if (onnxChoice is not null) output = onnxChoice.OutputFor(a, output);
        string? imagePath = a.Positional.Count == 1 ? a.Positional[0] : Explain.DefaultExample();
        string imageName = imagePath is "-" ? Program.StandardInputName : imagePath ?? Explain.BuiltInExampleName;
        var labels = onnxChoice?.Labels ?? ImageNetLabels.LoadDefault(a.Value("--labels"), WeightsResolver.TryResolve(a.Value("--weights")));
        int? requested = a.Value("--target") is { } t ? Explain.TargetClass(labels, t) : null;
        string outDir = a.Value("--out") ?? Path.Combine("ig-out", ImageInputs.FolderName(Path.GetFileName(imageName)));
        NativeIg.Tensors.IO.AtomicFiles.RequireWritableDirectory(outDir);
        int size = onnxChoice?.InputSize ?? GoogLeNet.InputSize;
        using var image = imagePath is null ? Explain.BuiltInExample(size) : Program.LoadImage(imagePath, size: size);
        var choice = onnxChoice ?? ModelChoice.Load(a, device, labels);
        using var batch1 = image.Reshape(1, size, size, 3);
        using var probabilities = choice.Scores(batch1);
        var top3 = NativeIg.Tensors.Ranking.TopK(probabilities.Span, 3);
        int target = requested ?? top3[0].Index;
        bool quiet = a.Flag("--quiet") || a.Flag("--json");
        // Per chunk of path images, each method on its own line (a redrawn bar on a terminal); then its total.
        bool live = ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected;
        ProgressReporter? reporter = null;
        string? reporting = null;
        var options = new ComparisonOptions
        {
            Steps = steps, BatchSize = batch, NoiseSamples = samples, NoiseSigma = sigma, Seed = seed, Output = output, Methods = chosen,
            BlurSteps = 2 * steps, GuidedSteps = 4 * steps, NoiseSteps = Math.Max(1, (int)Math.Round(steps * 0.4)),
            PathProgress = quiet ? null : new Immediate<(string Method, IgProgress Progress)>(p =>
            {
                if (reporting != p.Method) { reporter?.Finish(); (reporter, reporting) = (new ProgressReporter(stderr, live, p.Method, TimeSpan.FromSeconds(2)), p.Method); }
                reporter!.Report(p.Progress);
            }),
            Progress = quiet ? null : new Immediate<MethodOutcome>(m =>
            {
                reporter?.Finish();
                (reporter, reporting) = (null, null);
                stderr.WriteLine($"  {m.Name}: {m.GradientImages} path images, {m.Elapsed.TotalSeconds:0.0} s");
            }),
        };
        var running = chosen ?? MethodComparison.MethodNames;
        if (!quiet)
            stderr.WriteLine($"Comparing methods for '{labels[target]}' ({target}), in path images: " +
                string.Join(", ", running.Select(m => $"{m} {MethodComparison.Cost(m, options)}")));
        ComparisonResult result;
        try { result = MethodComparison.Run(choice.Model, image, target, options, cancellation); }
        finally { reporter?.Finish(); }
        using var _ = result;
        var figure = MethodComparison.Figure(image, result, $"'{labels[target]}' ({target}) in {Path.GetFileName(imageName)}", colormap, clip, options.TopFraction);
        var written = ExplanationFiles.WritePictures(outDir, [("compare.png", figure)], []);
        if (a.Flag("--json"))
        {
            var record = new JsonObject
            {
                ["image"] = imageName, ["target"] = target, ["label"] = labels[target], ["top"] = Program.TopJson(top3, labels),
                ["methods"] = new JsonArray([.. result.Methods.Select(m => (JsonNode)new JsonObject
                {
                    ["method"] = m.Name, ["relative_delta"] = m.RelativeDelta, ["path_images"] = m.GradientImages, ["seconds"] = Math.Round(m.Elapsed.TotalSeconds, 3),
                })]),
                ["xrai_regions"] = result.Xrai?.Regions, ["figure"] = written[0],
            };
            Program.WriteJson(stdout, record);
        }
        else
        {
            stdout.WriteLine(imageName);
            foreach (var (index, p) in top3) stdout.WriteLine($"  {labels[index]}: {choice.Show(p)}");
            stdout.WriteLine($"{"method",-22} {"delta",9} {"path images",12} {"seconds",8}");
            foreach (var m in result.Methods)
                stdout.WriteLine($"{m.Name,-22} {(m.RelativeDelta is { } d ? $"{d * 100:0.00}%" : "—"),9} {m.GradientImages,12} {m.Elapsed.TotalSeconds,8:0.0}");
            stdout.WriteLine($"Wrote {written[0]}");
        }
        return Program.Success;
    }
}

/// <summary>An <see cref="IProgress{T}"/> that reports on the caller's thread, at once and in order (<see cref="Progress{T}"/> posts to the thread pool).</summary>
internal sealed class Immediate<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
