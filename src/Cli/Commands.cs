using System.Text.Json.Nodes;
using System.Text.Json;
using NativeIg.Ig;
using NativeIg.InceptionV1;
using NativeIg.Tensors;

using NativeIg.Tensors.IO;

namespace NativeIg.Cli;

internal static class Classify
{
    public static readonly string[] ValueOptions = ["--top", "--weights", "--labels", "--threads", "--device", .. ModelChoice.ValueOptions];
    public static readonly string[] Flags = ["--json", "--skip-checksum", .. ModelChoice.Flags];

    public static int Run(Arguments a, TextWriter stdout, TextWriter stderr, CancellationToken cancellation)
    {
        if (a.Positional.Count == 0) throw new UsageException("classify needs at least one IMAGE.");
        if (a.Positional.Count(p => p == "-") > 1) throw new UsageException("Standard input (-) can be read once: give - at most once.");
        int top = a.Int("--top") ?? 5;
        if (top < 1) throw new UsageException("--top must be at least 1.");
        ModelChoice.ParsePreprocessing(a, null);
        using var threadLimit = Program.ApplyThreads(a);
        using var device = Program.OpenDevice(a);
        var model = ModelChoice.Load(a, device);
        var labels = model.Labels;
        if (top > model.Model.Classes) throw new UsageException($"--top must be in 1…{model.Model.Classes} (the model's classes).");
        int failures = 0;
        foreach (var path in a.Positional)
        {
            cancellation.ThrowIfCancellationRequested();
            Tensor image;
            try { image = Program.LoadImage(path, size: model.InputSize); }
            catch (Exception e) when (e is ImageFormatException or FormatException or IOException)
            {
                stderr.WriteLine($"nativeig: {Terminal.Safe(e.Message)}");
                failures++;
                continue;
            }
            using (image)
            using (var batch = image.Reshape(1, model.InputSize, model.InputSize, 3))
            using (var probabilities = model.Scores(batch))
            {
                var best = NativeIg.Tensors.Ranking.TopK(probabilities.Span, top);
                if (a.Flag("--json"))
                {
                    var record = new JsonObject { ["image"] = path, ["top"] = Program.TopJson(best, labels) };
                    Program.WriteJson(stdout, record);
                }
                else
                {
                    stdout.WriteLine(path);
                    foreach (var (index, p) in best) stdout.WriteLine($"  {labels[index]}: {model.Show(p)}");
                }
            }
        }
        return failures == 0 ? Program.Success : Program.Failure;
    }
}

internal static class Explain
{
    public static readonly string[] ValueOptions =
        ["--target", "--steps", "--auto-steps", "--max-steps", "--batch", "--baseline", "--rule", "--output", "--out", "--colormap", "--clip", "--weights", "--labels", "--threads", "--device",
         "--shard", "--shards", .. MethodSpec.ValueOptions, .. ModelChoice.ValueOptions];
    public static readonly string[] Flags = ["--json", "--signed", "--skip-checksum", "--quiet", "--force", .. ModelChoice.Flags];

    /// <summary>The largest --batch: each path image holds about 10 MB of GoogLeNet activations.</summary>
    public const int MaxBatch = 256;

    /// <summary>The explain options every image shares, checked before any file is read.</summary>
    internal sealed record Settings(int Steps, double? AutoTolerance, int MaxSteps, int Batch, string BaselineSpec, IntegrationRule Rule,
        TargetOutput Output, Colormap? Colormap, double Clip)
    {
        public IgOptions Options(IProgress<IgProgress>? progress = null) => IgOptions.Default with
        {
            Steps = AutoTolerance is null ? Steps : 50, AutoStepsTolerance = AutoTolerance, MaxSteps = MaxSteps,
            BatchSize = Batch, Rule = Rule, Output = Output, Progress = progress,
        };
    }

    /// <summary>--target by label or class index; anything else is a usage error that says which.</summary>
    internal static int TargetClass(ImageNetLabels labels, string text) => labels.Find(text) ?? throw new UsageException(
        int.TryParse(text, out _) ? $"--target {text} is outside 0…{labels.Count - 1}." : $"--target '{text}' is not a label of the model (e.g. \"fireboat\", \"giant panda\") or a class index.");

    internal static Settings ParseSettings(Arguments a)
    {
        int steps = a.Int("--steps") ?? 50;
        if (steps is < 1 or > IntegratedGradients.MaxSteps) throw new UsageException($"--steps must be in 1…{IntegratedGradients.MaxSteps}, got {steps}.");
        double? autoTolerance = a.Double("--auto-steps");
        if (autoTolerance is not null && a.Value("--steps") is not null) throw new UsageException("Give --steps or --auto-steps, not both.");
        if (autoTolerance is not null && !(autoTolerance > 0 && autoTolerance <= 1)) throw new UsageException("--auto-steps needs a tolerance in (0, 1] (e.g. 0.01 for 1%).");
        int maxSteps = a.Int("--max-steps") ?? 1600;
        if (maxSteps is < 50 or > IntegratedGradients.MaxSteps) throw new UsageException($"--max-steps must be in 50…{IntegratedGradients.MaxSteps}, got {maxSteps}.");
        int batch = a.Int("--batch") ?? 32;
        if (batch is < 1 or > MaxBatch) throw new UsageException($"--batch must be in 1…{MaxBatch}, got {batch}.");
        string baselineSpec = a.Value("--baseline") ?? "black";
        try { Baselines.ValidateSpec(baselineSpec); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        IntegrationRule rule;
        try { rule = PathRules.Parse(a.Value("--rule") ?? "trapezoid"); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        var (output, colormap, clip) = ParsePictureOptions(a);
        return new Settings(steps, autoTolerance, maxSteps, batch, baselineSpec, rule, output, colormap, clip);
    }

    /// <summary>--output, --colormap, --clip and --out, as explain and compare read them.</summary>
    internal static (TargetOutput Output, Colormap? Colormap, double Clip) ParsePictureOptions(Arguments a)
    {
        var output = (a.Value("--output") ?? "probability").ToLowerInvariant() switch
        {
            "probability" or "prob" => TargetOutput.Probability,
            "logit" => TargetOutput.Logit,
            var other => throw new UsageException($"--output must be probability or logit, got '{other}'."),
        };
        Colormap? colormap = null;
        if (a.Value("--colormap") is { } cmap)
        {
            try { colormap = Colormap.Parse(cmap); }
            catch (ArgumentException e) { throw new UsageException(e.Message); }
        }
        // 99 by default: a few hot pixels otherwise take the whole colour scale and leave the mask dim.
        double clip = a.Double("--clip") ?? 99;
        if (!(clip > 0 && clip <= 100)) throw new UsageException("--clip must be a percentile in (0, 100].");
        if (a.Value("--out") is "") throw new UsageException("--out needs a folder name.");
        return (output, colormap, clip);
    }

    public static int Run(Arguments a, TextWriter stdout, TextWriter stderr, CancellationToken cancellation)
    {
        // Many images (several, a folder, a glob, a shard): one model load, a report, a gallery (ExplainMany).
        if (a.Positional.Count > 1 || a.Positional.Any(p => Directory.Exists(p) || p.IndexOfAny(['*', '?']) >= 0)
            || a.Value("--shard") is not null || a.Value("--shards") is not null || a.Flag("--force"))
            return ExplainMany.Run(a, stdout, stderr, cancellation);
        // Every argument is checked before any file is read, the model loads or any gradient is computed.
        var settings = ParseSettings(a);
        var (steps, autoTolerance, maxSteps, batch, baselineSpec, rule, output, colormap, clip) = settings;
        var method = MethodSpec.Parse(a);
        if (!method.IsPlainIg && autoTolerance is not null) throw new UsageException("--auto-steps works with plain IG; give --steps for other methods.");
        int methodMaxSteps = method.Method switch { "blur-ig" => BlurIgOptions.MaxSteps, "guided-ig" => GuidedIgOptions.MaxSteps, _ => IntegratedGradients.MaxSteps };
        if (steps > methodMaxSteps) throw new UsageException($"--steps for {method.Method} must be in 1…{methodMaxSteps}, got {steps}.");
        if (method.Method is "blur-ig" or "guided-ig" && a.Value("--steps") is null)
            settings = settings with { Steps = method.Method == "blur-ig" ? new BlurIgOptions().Steps : new GuidedIgOptions().Steps }; // the papers' defaults
        ModelChoice.ParsePreprocessing(a, null);
        using var threadLimit = Program.ApplyThreads(a);
        // An ONNX model's labels depend on its outputs, so it loads first; GoogLeNet's labels are checked before its weights load.
        using var device = Program.OpenDevice(a);
        var onnxChoice = a.Value("--model") is not null ? ModelChoice.Load(a, device) : null;
        if (onnxChoice is not null)
        {
            output = onnxChoice.OutputFor(a, output);
            settings = settings with { Output = output };
        }

        // Then the cheap files, so that a bad label, image or output folder fails before the model loads.
        string? imagePath = a.Positional.Count == 1 ? a.Positional[0] : DefaultExample();
        if (imagePath is null && !a.Flag("--json") && !a.Flag("--quiet"))
            stderr.WriteLine($"No IMAGE given and the tutorial's fireboat.jpg was not found: explaining the built-in example {BuiltInExampleName} (Kevin Dooley, CC BY 2.0).");
        string imageName = imagePath is "-" ? Program.StandardInputName : imagePath ?? BuiltInExampleName;
        var labels = onnxChoice?.Labels ?? ImageNetLabels.LoadDefault(a.Value("--labels"), WeightsResolver.TryResolve(a.Value("--weights")));
        int? requestedTarget = null;
        if (a.Value("--target") is { } targetText) requestedTarget = TargetClass(labels, targetText);
        string outDir = a.Value("--out") ?? Path.Combine("ig-out", ImageInputs.FolderName(Path.GetFileName(imageName)));
        AtomicFiles.RequireWritableDirectory(outDir);
        int size = onnxChoice?.InputSize ?? GoogLeNet.InputSize;
        using var image = imagePath is null ? BuiltInExample(size) : Program.LoadImage(imagePath, size: size);
        using var baseline = Baselines.Parse(baselineSpec, image);
        var choice = onnxChoice ?? ModelChoice.Load(a, device, labels);
        var model = choice.Model;

        using var batch1 = image.Reshape(1, size, size, 3);
        using var probabilities = choice.Scores(batch1);
        var top3 = NativeIg.Tensors.Ranking.TopK(probabilities.Span, 3);
        int target = requestedTarget ?? top3[0].Index;

        if (!method.IsPlainIg)
            return MethodRun.Run(method, settings, choice, image, baseline, target, labels[target], imageName, top3, labels, outDir, a.Flag("--json"), stdout, cancellation);
        var ig = new IntegratedGradients(model);
        var progress = a.Flag("--quiet") || a.Flag("--json") ? null
            : new ProgressReporter(stderr, live: ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected);
        IgResult result;
        try
        {
            var options = IgOptions.Default with
            {
                Steps = autoTolerance is null ? steps : 50, AutoStepsTolerance = autoTolerance, MaxSteps = maxSteps,
                BatchSize = batch, Rule = rule, Output = output, Progress = progress,
            };
            result = ig.Attribute(image, baseline, target, options, cancellation);
        }
        finally { progress?.Finish(); }
        using (result)
        {
            cancellation.ThrowIfCancellationRequested();
            string title = $"IG for '{labels[target]}' ({target}), {result.Steps} steps";
            var files = ExplanationFiles.Write(outDir, result, image, baseline, title, colormap, clip < 100 ? clip : null, a.Flag("--signed"));
            if (a.Flag("--json"))
            {
                // Built as nodes, not serialised by reflection, so the NativeAOT executable writes the same JSON.
                var record = new JsonObject
                {
                    ["image"] = imageName, ["target"] = target, ["label"] = labels[target], ["steps"] = result.Steps,
                    ["rule"] = PathRules.Name(rule), ["baseline"] = baselineSpec,
                    ["output"] = output == TargetOutput.Probability ? "probability" : "logit",
                    ["f_input"] = result.FInput, ["f_baseline"] = result.FBaseline, ["sum"] = result.Sum, ["delta"] = result.Delta,
                    ["relative_delta"] = result.RelativeDelta, ["seconds"] = Math.Round(result.Elapsed.TotalSeconds, 3),
                    ["top"] = Program.TopJson(top3, labels),
                    ["files"] = Program.FilesJson([files.Figure, files.Mask, files.Overlay, files.Saturation, files.Attributions, files.Interpolation, files.Path]),
                };
                Program.WriteJson(stdout, record);
            }
            else
            {
                stdout.WriteLine(imageName);
                foreach (var (index, p) in top3) stdout.WriteLine($"  {labels[index]}: {choice.Show(p)}");
                stdout.WriteLine($"Integrated Gradients for '{labels[target]}' ({target}), {PathRules.Name(rule)} rule, {result.Steps} steps, baseline {baselineSpec}, F = {(output == TargetOutput.Probability ? "probability" : "logit")}");
                stdout.WriteLine($"  F(x)        = {result.FInput:G6}");
                stdout.WriteLine($"  F(baseline) = {result.FBaseline:G6}");
                stdout.WriteLine($"  sum(attr)   = {result.Sum:G6}");
                stdout.WriteLine($"  delta       = {result.Delta:+0.000000;-0.000000} ({result.RelativeDelta * 100:0.00}% of F(x) - F(baseline))");
                stdout.WriteLine($"  seconds     = {result.Elapsed.TotalSeconds:0.00}");
                WriteHints(stderr, a, result, labels[target], probabilities.Span[target]);
                stdout.WriteLine($"Wrote {files.Figure}, {Path.GetFileName(files.Mask)}, {Path.GetFileName(files.Overlay)}, {Path.GetFileName(files.Saturation)}, {Path.GetFileName(files.Interpolation)}, {Path.GetFileName(files.Attributions)}, {Path.GetFileName(files.Path)}");
            }
        }
        return Program.Success;
    }

    /// <summary>
    /// What a careful reader of the numbers would say: an integral whose completeness gap is over 5% of
    /// F(x) − F(x′) needs more steps; a target the model gives under 1% is a class it does not predict.
    /// </summary>
    internal static void WriteHints(TextWriter stderr, Arguments a, IgResult result, string label, float probability)
    {
        if (a.Flag("--quiet")) return;
        if (result.RelativeDelta > 0.05)
            stderr.WriteLine($"hint: the integral is poor: delta is {result.RelativeDelta * 100:0.#}% of F(x) - F(baseline) (over 5%). " +
                $"Raise the steps (--steps {Math.Min(IntegratedGradients.MaxSteps, result.Steps * 4)}) or let them grow until it is good (--auto-steps 0.01).");
        if (probability < 0.01f)
            stderr.WriteLine($"note: the model gives '{label}' only {probability * 100:0.###}%: this explains a class the model does not predict for this image.");
    }

    /// <summary>The file name of the example embedded in this assembly (see src/Cli/Examples/ATTRIBUTION.md).</summary>
    internal const string BuiltInExampleName = "giant_panda.jpg";

    /// <summary>The built-in example, a 224×224 photo of a giant panda (Kevin Dooley, CC BY 2.0), ready for the model.</summary>
    internal static Tensor BuiltInExample(int size = GoogLeNet.InputSize)
    {
        using var stream = typeof(Explain).Assembly.GetManifestResourceStream("NativeIg.Cli.Examples." + BuiltInExampleName)
            ?? throw new InvalidOperationException("The built-in example image is missing from the nativeig assembly.");
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return ImageLoader.DecodeForModel(memory.ToArray(), BuiltInExampleName + " (built in)", size);
    }

    /// <summary>
    /// The tutorial's fireboat.jpg from $NATIVEIG_EXAMPLES, else from an images/ folder in shared/ or
    /// ../shared/ up the directory tree; null when there is none (the built-in example is used).
    /// </summary>
    internal static string? DefaultExample()
    {
        const string name = "fireboat.jpg";
        var fromEnvironment = Environment.GetEnvironmentVariable("NATIVEIG_EXAMPLES");
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            var candidate = Path.Combine(fromEnvironment, name);
            if (File.Exists(candidate)) return candidate;
            throw new FileNotFoundException($"NATIVEIG_EXAMPLES is {fromEnvironment}, which holds no {name}.");
        }
        foreach (var dir in WeightsResolver.SearchDirectories())
            foreach (var sub in new[] { "shared/images", "../shared/images", "images" })
            {
                var candidate = Path.GetFullPath(Path.Combine(dir, sub, name));
                if (File.Exists(candidate)) return candidate;
            }
        return null;
    }
}

/// <summary>
/// Progress of the path on stderr. On a terminal: one line redrawn per chunk with a bar, elapsed time,
/// rate and time left. When stderr is redirected (a log, CI, a scheduler): one plain line per chunk,
/// no carriage returns. <see cref="Finish"/> ends a redrawn line, so an interrupt leaves no half bar.
/// </summary>
/// <param name="stderr">Where the lines go.</param>
/// <param name="live">A terminal: one redrawn line.</param>
/// <param name="label">The method's name before each line (compare), or null.</param>
/// <param name="minimumInterval">At most one line per this interval, except the first and the last (a
/// method whose batches are tiny, Guided IG's 4 images, would otherwise print hundreds).</param>
internal sealed class ProgressReporter(TextWriter stderr, bool live, string? label = null, TimeSpan minimumInterval = default) : IProgress<IgProgress>
{
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private bool _drawn;
    private TimeSpan? _lastLine;

    public void Report(IgProgress value)
    {
        bool last = value.ImagesTotal > 0 && value.ImagesDone >= value.ImagesTotal;
        if (_lastLine is { } previous && !last && _clock.Elapsed - previous < minimumInterval) return;
        _lastLine = _clock.Elapsed;
        double elapsed = _clock.Elapsed.TotalSeconds;
        double rate = elapsed > 0 ? value.ImagesDone / elapsed : 0;
        string left = rate > 0 && value.ImagesDone < value.ImagesTotal ? $", {Seconds((value.ImagesTotal - value.ImagesDone) / rate)} left" : "";
        string baseline = value.Baselines > 1 ? $" (baseline {value.BaselineIndex + 1}/{value.Baselines})" : "";
        // A total of 0: the method's path length follows its gradients (Guided IG), so only the count so far is known.
        string done = value.ImagesTotal > 0 ? $"{value.ImagesDone}/{value.ImagesTotal}" : $"{value.ImagesDone} (of a length not known in advance)";
        string text = $"{(label is null ? "" : label + ": ")}path {done} images{baseline}, {Seconds(elapsed)} elapsed, {rate:0.0} images/s{left}";
        if (!live)
        {
            stderr.WriteLine($"  {text}");
            return;
        }
        const int width = 24;
        int filled = value.ImagesTotal == 0 ? 0 : value.ImagesDone * width / value.ImagesTotal;
        stderr.Write($"\r  [{new string('#', filled)}{new string('.', width - filled)}] {text}\u001b[K");
        _drawn = true;
    }

    public void Finish()
    {
        if (_drawn) stderr.WriteLine();
        _drawn = false;
    }

    private static string Seconds(double s) => s < 60 ? $"{s:0.0} s" : $"{(int)(s / 60)} min {s % 60:00} s";
}
